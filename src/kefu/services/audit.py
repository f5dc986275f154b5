"""The audit log (R35, B7): recording what people (and kefu) did, reading it, sealing the
work-order events into it, and verifying every hash chain.

To record, a use case calls `record(ctx, uow, actor, action, ...)` inside its own unit of work
(opened with write=True); the row is chained and written when that unit of work commits, so it
exists exactly when the change it describes does. A use case that is refused should record the
refusal (a failed login) and commit before raising.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kefu.domain.audit import (
    GENESIS,
    AuditAction,
    AuditEntry,
    AuditFilter,
    AuditRecord,
    ChainLink,
    Seal,
    Tampering,
    first_break,
    seal_digest,
)
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import Permission, User
from kefu.services.access import authz
from kefu.services.access.authz import require
from kefu.services.ports import UnitOfWork

if TYPE_CHECKING:  # context.py imports access.lockout, which records here: no cycle at run time
    from kefu.services.context import Context

MAX_PAGE = 200
#: How often the worker fixes the work-order events in the audit chain.
SEAL_EVERY = timedelta(minutes=10)


def record(
    ctx: Context,
    uow: UnitOfWork,
    actor: User | None,
    action: AuditAction,
    *,
    subject_type: str | None = None,
    subject_id: object = None,
    customer_id: int | None = None,
    reason: str | None = None,
    origin: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record one audit row in the caller's unit of work (chained and written at its commit).

    actor         who did it; None for kefu itself or someone not signed in (a failed login:
                  put the username tried in `details`)
    action        what happened (kefu.domain.audit.AuditAction)
    subject_type  what kind of thing it was done to: "customer", "user", "token", or the kind
    subject_id    of setting ("category", "routing_rule" ...), and which one (any value, kept as text)
    customer_id   whose personal data it concerns, if anyone's (auditors filter by it)
    reason        a reason code, e.g. an UnmaskReason value
    origin        the client's address, where the entry point knows it
    details       anything else worth keeping (JSON values): before/after of a change, a filter ...
    """
    uow.audit.add(
        AuditEntry(
            action=action,
            at=ctx.clock.now(),
            actor_id=actor.id if actor is not None else None,
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            customer_id=customer_id,
            reason=reason,
            origin=origin,
            details=dict(details or {}),
        )
    )


def record_setting_change(
    ctx: Context, uow: UnitOfWork, actor: User, kind: str, key: object, before: Any, after: Any
) -> None:
    """A setting changed (category, team, agent, routing rule, time limit, calendar, message
    template ...): which, from what, to what. The admin change log shows these."""
    record(
        ctx,
        uow,
        actor,
        AuditAction.SETTING_CHANGED,
        subject_type=kind,
        subject_id=key,
        details={"before": before, "after": after},
    )


def record_operator_action(ctx: Context, action: AuditAction, *, subject_type: str, details: Mapping[str, Any]) -> None:
    """Something done at the console, where nobody is signed in (a backup, a restore, a key
    rotation): a use case of its own that only records it."""
    with ctx.uow(write=True) as uow:
        record(ctx, uow, None, action, subject_type=subject_type, details=details)
        uow.commit()


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    records: list[AuditRecord]
    people: dict[int, str]  # display names of the actors on the page
    next_before_id: int | None  # the keyset cursor of the next page


def read_audit_log(
    ctx: Context, reader: User, flt: AuditFilter, *, actor_username: str | None = None, limit: int = 50
) -> AuditPage:
    """The audit log, newest first, for auditors and administrators — of the top organisation: every
    row; elsewhere: what the people of their organisation's subtree did. The reading is recorded too."""
    require(reader, Permission.AUDIT_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=MAX_PAGE)
    for name, at in (("from", flt.start), ("to", flt.end)):
        if at is not None and not 1970 <= at.year <= 9998:
            raise ValidationFailed("Give a time between the years 1970 and 9998.", field=name)
    if flt.start is not None and flt.end is not None and flt.start >= flt.end:
        raise ValidationFailed("The start of the period must lie before its end.", field="from")
    if flt.subject_id is not None and flt.subject_type is None:
        raise ValidationFailed("Give the kind of subject with its id.", field="subject_type")
    with ctx.uow(write=True) as uow:
        # The model's scope: the top organisation's auditors and admins read every row; others what
        # the people of their organisation's subtree did (someone outside it is no one to them).
        staff = authz.staff_scope(ctx, uow, reader)
        if actor_username:
            found = uow.users.get_by_username(actor_username.strip())
            if found is None or found.id is None or (staff is not None and found.organisation_id not in staff):
                raise ValidationFailed("No user is called {name}.", field="actor", name=actor_username.strip())
            flt = AuditFilter(**{**_fields(flt), "actor_id": found.id})
        records = uow.audit.find(replace(flt, actor_organisation_ids=staff), limit)
        people = uow.users.get_many(sorted({r.entry.actor_id for r in records if r.entry.actor_id is not None}))
        record(ctx, uow, reader, AuditAction.AUDIT_READ, details={"filter": _fields(flt), "rows": len(records)})
        uow.commit()
    return AuditPage(
        records=records,
        people={i: u.display_name for i, u in people.items()},
        next_before_id=records[-1].id if len(records) == limit else None,
    )


def _fields(flt: AuditFilter) -> dict[str, Any]:
    return {k: v for k, v in asdict(flt).items() if v not in (None, ())}


def setting_changes(ctx: Context, actor: User, *, limit: int = 100) -> tuple[list[AuditRecord], dict[int, str]]:
    """The latest settings changes made by the people of the actor's organisation subtree (all of
    them at the top organisation), newest first, with the names of the people who made them (the
    administration's change log: for those who manage the settings)."""
    require(actor, Permission.ROUTING_MANAGE)
    with ctx.uow() as uow:
        flt = AuditFilter(
            actions=(AuditAction.SETTING_CHANGED,), actor_organisation_ids=authz.staff_scope(ctx, uow, actor)
        )
        changes = uow.audit.find(flt, limit)
        people = uow.users.get_many(sorted({c.entry.actor_id for c in changes if c.entry.actor_id is not None}))
    return changes, {i: u.display_name for i, u in people.items()}


# --- seals --------------------------------------------------------------------------------------


def seal_events(ctx: Context, *, force: bool = False) -> Seal | None:
    """Fix the hashes of the work-order events up to an id in the audit chain (every SEAL_EVERY,
    from the worker; `force`: now). A seal ends where the previous one saw the last event, once
    every transaction that could still add an event below that has ended; so each event is sealed
    within two periods, and a seal never misses one that commits late. None: nothing to seal yet."""
    now = ctx.clock.now()
    if not force:
        with ctx.uow() as uow:
            last = uow.audit.last(AuditAction.EVENTS_SEALED)
        if last is not None and now - last.entry.at < SEAL_EVERY:
            return None
    with ctx.uow(write=True) as uow:
        uow.audit.hold_chain()  # two workers never seal the same events twice
        last = uow.audit.last(AuditAction.EVENTS_SEALED)
        if last is not None and not force and now - last.entry.at < SEAL_EVERY:
            return None
        previous = Seal.of(last.entry.details) if last is not None else None
        start = previous.through_id if previous else 0
        through = previous.next_through_id if previous else 0
        if previous is not None and not uow.audit.horizon_passed(previous.marker):
            return None  # a transaction from before the previous seal is still running: next time
        top, marker = uow.audit.event_horizon()
        if through == start and top == through:
            return None  # nothing new since the previous seal
        count, digest = seal_digest(uow.audit.event_hashes(start, through))
        seal = Seal(start, through, count, digest, max(top, through), marker)
        record(ctx, uow, None, AuditAction.EVENTS_SEALED, subject_type="work_order_events", details=seal.as_details())
        uow.commit()
    return seal


# --- verification -------------------------------------------------------------------------------


@dataclass
class Verification:
    """What `verify_chains` walked, and the first problem of each chain kind it found."""

    audit_rows: int = 0
    work_orders: int = 0
    events: int = 0
    seals: int = 0
    sealed_through: int = 0  # events up to this id are fixed in the audit chain
    head: tuple[int, str] | None = None  # (seq, hash) of the audit chain's last row: keep it elsewhere
    problems: list[Tampering] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


Progress = Callable[[int], None]


def chain_sizes(ctx: Context) -> int:
    """How many rows `verify_chains` walks (audit rows and events), for a progress bar."""
    with ctx.uow() as uow:
        return uow.audit.sizes()


def verify_chains(
    ctx: Context, *, anchors: Mapping[int, str] | None = None, progress: Progress | None = None
) -> Verification:
    """Walk the audit chain, every work order's event chain and the seals, in one consistent view
    of the database. `anchors` are (seq -> hash) of audit rows recorded outside the database
    earlier (e.g. the head printed by an earlier run): a chain recomputed after tampering no longer
    has them. Operators run this (`kefu audit verify`); it needs no signed-in user."""
    tick = progress or (lambda _: None)
    found = Verification()
    with ctx.uow(snapshot=True) as uow:
        seals = _walk_audit(uow, found, dict(anchors or {}), tick)
        _walk_events(uow, found, tick)
        _check_seals(uow, found, seals)
    return found


def _walk_audit(uow: UnitOfWork, found: Verification, anchors: dict[int, str], tick: Progress) -> list[AuditRecord]:
    seals: list[AuditRecord] = []
    seq, prev = 0, GENESIS
    broken = False
    while True:
        batch = uow.audit.chain(seq, 5000)
        if not batch:
            break
        if not broken:
            problem = first_break([link for _, link in batch], start_seq=seq, start_hash=prev)
            if problem is not None:
                found.problems.append(problem)
                broken = True
        for record_, link in batch:
            if record_.entry.action is AuditAction.EVENTS_SEALED:
                seals.append(record_)
            if link.seq in anchors and anchors.pop(link.seq) != link.hash and not broken:
                found.problems.append(
                    Tampering("audit_log", link.id, "its hash differs from the one recorded earlier (chain rewritten)")
                )
                broken = True
        seq, prev = batch[-1][1].seq, batch[-1][1].hash
        found.audit_rows += len(batch)
        tick(len(batch))
    if seq:
        found.head = (seq, prev)
    if anchors and not broken:
        missing = min(anchors)
        found.problems.append(
            Tampering("audit_log", None, f"the row with seq {missing} recorded earlier is gone (rows deleted)")
        )
    return seals


def _walk_events(uow: UnitOfWork, found: Verification, tick: Progress) -> None:
    after = 0
    while True:
        heads = uow.audit.event_counts(after, 1000)
        if not heads:
            break
        chains: dict[int, list[ChainLink]] = {wo: [] for wo, _ in heads}
        for wo, link in uow.audit.event_links(heads[0][0], heads[-1][0]):
            chains[wo].append(link)
        for wo, recorded in heads:
            links = chains[wo]
            found.events += len(links)
            problem = first_break(links) or _length_problem(wo, recorded, links)
            if problem is not None:
                found.problems.append(problem)
                return
        found.work_orders += len(heads)
        tick(sum(len(v) for v in chains.values()))
        after = heads[-1][0]
    stray = uow.audit.events_outside(after)
    if stray is not None:
        found.problems.append(Tampering("work_order_events", stray, "it belongs to no work order that was walked"))


def _length_problem(work_order_id: int, recorded: int, links: list[ChainLink]) -> Tampering | None:
    length = links[-1].seq if links else 0
    if length < recorded:
        return Tampering(
            "work_orders",
            work_order_id,
            f"it records {recorded} events but its chain ends at {length}: events were deleted",
        )
    if length > recorded:
        return Tampering(
            "work_order_events",
            links[recorded].id,
            f"the work order records {recorded} events; this one and any after it were inserted",
        )
    if not links:
        return Tampering("work_orders", work_order_id, "it has no events at all (every work order starts with one)")
    return None


def _check_seals(uow: UnitOfWork, found: Verification, seals: list[AuditRecord]) -> None:
    expected_from = 0
    for sealed in seals:
        seal = Seal.of(sealed.entry.details)
        if seal.from_id != expected_from:
            found.problems.append(
                Tampering("audit_log", sealed.id, f"the seal starts at event {seal.from_id}, not {expected_from}")
            )
            return
        count, digest = seal_digest(uow.audit.event_hashes(seal.from_id, seal.through_id))
        if (count, digest) != (seal.events, seal.digest):
            found.problems.append(
                Tampering(
                    "work_order_events",
                    None,
                    f"the events with ids {seal.from_id + 1}-{seal.through_id} differ from what audit row "
                    f"{sealed.id} sealed ({seal.events} events sealed, {count} found): edited, deleted or inserted",
                )
            )
            return
        expected_from = seal.through_id
        found.seals += 1
        found.sealed_through = seal.through_id
