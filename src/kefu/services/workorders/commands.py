"""Use cases that change work orders: register (and preview the promise), move along the lifecycle,
add notes, change the priority, link and merge. Reading is in `queries`.

Each public function is one transaction. State changes only here, through the domain methods.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from kefu.domain.categories import Category, validate_code
from kefu.domain.checklists import new_checklist, template_for, unfinished
from kefu.domain.customers import Customer, CustomerProfile, Tier, normalize_phone
from kefu.domain.errors import N_, IdempotencyKeyReused, NotFound, StateConflict, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.sla import ClockName
from kefu.domain.workorders import (
    Channel,
    Priority,
    Status,
    WorkOrder,
    WorkOrderType,
    is_work_order_number,
)
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.access.scope import load_work_order
from kefu.services.changes import changing, move, store
from kefu.services.channels import notify
from kefu.services.context import Context
from kefu.services.customers import NewCustomer, add_customer
from kefu.services.dispatch import routing
from kefu.services.notifications import making
from kefu.services.ports import UnitOfWork
from kefu.services.sla import clocks as sla


@dataclass(frozen=True)
class NewWorkOrder:
    customer_id: int
    type: WorkOrderType
    category: str
    channel: Channel
    title: str
    description: str
    priority: Priority | None = None
    severity: int | None = None
    team_id: int | None = None
    fault_time: datetime | None = None
    fault_place: str | None = None
    device: str | None = None
    promised_at: datetime | None = None
    call_id: str | None = None  # registered during this call (CTI): starts the `register` clock at its answer
    #: The customer's whole phone number, for a customer outside the registering actor's data scope
    #: (a customer of another organisation calling, or at the counter): it must be theirs.
    customer_phone: str | None = None

    def fingerprint(self) -> str:
        """A digest of the request, to tell a retry from a different request under the same key."""
        body = json.dumps([getattr(self, f.name) for f in fields(self)], default=str, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


class _KeyTaken(Exception):
    """An earlier request already holds this Idempotency-Key (internal: triggers the replay)."""


def register_work_order(
    ctx: Context,
    actor: User,
    new: NewWorkOrder,
    *,
    idempotency_key: str | None = None,
    new_customer: NewCustomer | None = None,
) -> tuple[WorkOrder, bool]:
    """Register a work order; the actor becomes its first-ask owner (R15).

    Returns the work order and whether it was created now (False: an earlier request with the same
    Idempotency-Key created it, and that one is returned). The key is claimed in the same
    transaction as the work order, so a retry is answered with the first result even when both
    arrive at once; a rolled-back attempt only leaves a gap in the day's numbers.
    """
    require(actor, Permission.WORKORDER_CREATE)
    assert actor.id is not None
    if idempotency_key is not None and not (
        1 <= len(idempotency_key) <= 200 and idempotency_key.isascii() and idempotency_key.isprintable()
    ):
        raise ValidationFailed(
            "The Idempotency-Key must be 1 to 200 printable ASCII characters.", field="Idempotency-Key"
        )
    if (new.customer_id == 0) != (new_customer is not None):
        raise ValidationFailed(
            "Give either customer_id or new_customer (a caller not on file).",
            field="customer_id" if new_customer is None else "new_customer",
        )
    fingerprint = new.fingerprint() if idempotency_key else ""
    if idempotency_key and new_customer is not None:  # a retry registers the same caller, or is refused
        fingerprint = hashlib.sha256((fingerprint + repr(new_customer)).encode()).hexdigest()
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            stored = open_work_order(ctx, uow, actor, with_new_customer(ctx, uow, actor, new, new_customer), now)
            # R4: the customer is told the number and the promised time, whoever registered it (by
            # SMS when the channel they came by cannot be written to and a phone is known).
            notify.to_customer(ctx, uow, stored, "acknowledged")
            if idempotency_key is not None:
                assert stored.id is not None
                if not uow.idempotency.claim(
                    user_id=actor.id, key=idempotency_key, request_hash=fingerprint, work_order_id=stored.id, at=now
                ):
                    raise _KeyTaken()
            uow.commit()
    except (_KeyTaken, ValidationFailed):
        # A retry is answered with what the first request created, even if the same input would
        # no longer pass (say, its category was retired since); otherwise the error stands.
        if idempotency_key is None:
            raise
        with ctx.uow() as uow:
            existing = _replayed(uow, actor.id, idempotency_key, fingerprint)
        if existing is None:
            raise
        return scope.as_seen_by(ctx, actor, existing), False
    return scope.as_seen_by(ctx, actor, stored), True


def with_new_customer(
    ctx: Context, uow: UnitOfWork, actor: User, new: NewWorkOrder, customer: NewCustomer | None
) -> NewWorkOrder:
    """Inside a use case: a caller not on file is registered with the work order, in its
    transaction (nothing of either is stored if the other is refused)."""
    if customer is None:
        return new
    require(actor, Permission.CUSTOMER_CREATE)
    stored = add_customer(ctx, uow, actor, customer)
    assert stored.id is not None
    return replace(new, customer_id=stored.id, customer_phone=None)


@dataclass(frozen=True)
class Promise:
    """What registering would promise now (R4): the deadlines of the policy that would apply."""

    policy: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None


def preview_promise(ctx: Context, actor: User, new: NewWorkOrder) -> Promise:
    """The deadlines a work order registered now with these details would get; nothing is stored."""
    require(actor, Permission.WORKORDER_CREATE)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        profile = _registering_for(ctx, uow, actor, new, now.astimezone(ctx.timezone).date())
        wo = _new_work_order(ctx, uow, actor, new, profile, now)
        plan = sla.plan_for(ctx, uow, wo, profile)
        calendar = sla.setup(ctx, uow).calendar(plan.calendar)

    def due(name: ClockName) -> datetime | None:
        minutes = plan.targets.get(name)
        return calendar.add(now, timedelta(minutes=minutes)) if minutes else None

    return Promise(
        policy=plan.policy.name if plan.policy else None,
        first_response_due=due(ClockName.FIRST_RESPONSE),
        resolution_due=due(ClockName.RESOLUTION),
    )


def open_work_order(ctx: Context, uow: UnitOfWork, actor: User, new: NewWorkOrder, now: datetime) -> WorkOrder:
    """Inside a use case: a new work order with its routing, time limits and checklist, stored.
    Every way in (agents, channels, the hotline) opens work orders through here."""
    day = now.astimezone(ctx.timezone).date()
    profile = _registering_for(ctx, uow, actor, new, day)
    work_order = _new_work_order(ctx, uow, actor, new, profile, now)
    if new.team_id is None:
        routing.route_new(ctx, uow, work_order, profile, now)
    plan = sla.announce(ctx, uow, work_order, profile)
    clocks = sla.prepare(ctx, uow, work_order, plan)
    pending = list(work_order.events)
    if work_order.promised_at is None:  # R4: the time told to the customer is the resolution deadline
        work_order.promised_at = next((r.due_at for r in clocks if r.state.name is ClockName.RESOLUTION), None)
    stored = uow.work_orders.add(work_order, day=day)
    making.follow(ctx, uow, stored, pending, actor_id=actor.id, opening=True)
    sla.start(uow, stored, clocks)
    if new.call_id is not None:
        cti_link(ctx, uow, stored, new.call_id, plan, now)
    if steps := new_checklist(stored.category):
        assert stored.id is not None
        uow.checklists.add(stored.id, steps)
    return stored


def cti_link(ctx: Context, uow: UnitOfWork, wo: WorkOrder, call_id: str, plan: sla.Plan, now: datetime) -> None:
    """A work order registered from a call: the call and its contact point to it, and the
    `register` clock measures from the answer to the registration (R2: within 5 minutes)."""
    call = uow.channels.call(call_id, lock=True)
    if call is None:
        raise ValidationFailed(
            "Call {id} is unknown; it must have been reported by the CTI platform.", field="call_id", id=call_id
        )
    if call.work_order_id is not None:
        raise ValidationFailed("Call {id} already has a work order.", field="call_id", id=call_id)
    call.work_order_id = wo.id
    call.customer_id = call.customer_id or wo.customer_id
    uow.channels.save_call(call)
    if call.contact_id is not None:
        uow.channels.link_contact(call.contact_id, wo.id or 0, wo.customer_id)
    if call.answered_at is not None:
        sla.record_register_clock(ctx, uow, wo, plan, call.answered_at, now)


def _registering_for(ctx: Context, uow: UnitOfWork, actor: User, new: NewWorkOrder, day: date) -> CustomerProfile:
    """The profile of the customer a work order is registered for: a customer in the actor's data
    scope, or one outside it whom the actor identifies by the whole phone number — the number given
    with the registration, or the call it is registered during, is the customer's (first-ask
    responsibility, R15: whoever the customer reaches registers it). Any other customer id is
    answered as if there were no such customer, so registering reveals nobody's profile."""
    profile = uow.customers.profile_of(new.customer_id, day)
    visible = scope.visible_to(ctx, uow, actor)
    if profile is not None and (visible is None or profile.organisation_id in visible):
        return profile  # the common case, without another query
    customer = uow.customers.get(new.customer_id) if profile is not None else None
    if customer is None or not (scope.customer_in_scope(ctx, uow, actor, customer) or _identified(uow, customer, new)):
        raise NotFound(kind=N_("Customer"), key=new.customer_id)
    assert profile is not None
    return profile


def _identified(uow: UnitOfWork, customer: Customer, new: NewWorkOrder) -> bool:
    if new.customer_phone and customer.phone:
        try:
            if normalize_phone(new.customer_phone) == customer.phone:
                return True
        except ValidationFailed:
            return False
    call = uow.channels.call(new.call_id) if new.call_id else None
    return call is not None and call.customer_id == customer.id


def customer_profile(uow: UnitOfWork, customer_id: int, day: date) -> CustomerProfile:
    profile = uow.customers.profile_of(customer_id, day)
    if profile is None:
        raise ValidationFailed(
            "Customer {id} does not exist; register the customer first.", field="customer_id", id=customer_id
        )
    return profile


def _new_work_order(
    ctx: Context, uow: UnitOfWork, actor: User, new: NewWorkOrder, profile: CustomerProfile, now: datetime
) -> WorkOrder:
    assert actor.id is not None
    category = active_category(ctx, uow, new.category)
    if new.team_id is not None and uow.org.get_team(new.team_id) is None:
        raise ValidationFailed("Team {id} does not exist.", field="team_id", id=new.team_id)
    return WorkOrder.register(
        customer_id=new.customer_id,
        type=new.type,
        category=category.code,
        channel=new.channel,
        title=new.title,
        description=new.description,
        actor_id=actor.id,
        at=now,
        customer_is_vip=profile.tier is Tier.VIP,
        priority=new.priority,
        severity=new.severity,
        team_id=new.team_id if new.team_id is not None else actor.team_id,
        fault_time=new.fault_time,
        fault_place=new.fault_place,
        device=new.device,
        promised_at=new.promised_at,
        organisation_id=actor.organisation_id,
    )


def active_category(ctx: Context, uow: UnitOfWork, code: str) -> Category:
    """The category with this code if it is in use (cached for `ctx.cache_ttl`)."""
    category = ctx.caches.categories.get(validate_code(code))
    if category is None:
        category = uow.categories.get(code)
        if category is not None:
            ctx.caches.categories.put(code, category)
    if category is None or not category.active:
        raise ValidationFailed(
            "Category {code} does not exist or is no longer in use; pick one from /api/v1/categories.",
            field="category",
            code=code,
        )
    return category


def _replayed(uow: UnitOfWork, user_id: int, key: str, fingerprint: str) -> WorkOrder | None:
    """The work order an earlier request with this Idempotency-Key created, if any."""
    found = uow.idempotency.get(user_id, key)
    if found is None:
        return None
    stored_hash, work_order_id = found
    if stored_hash != fingerprint:
        raise IdempotencyKeyReused(key=key)
    return uow.work_orders.get_by_id(work_order_id)


def require_checklist_done(uow: UnitOfWork, wo: WorkOrder) -> None:
    """A service request is resolved only when every step of its checklist is done (R17)."""
    assert wo.id is not None
    if template_for(wo.category) and (left := unfinished(uow.checklists.steps(wo.id))):
        raise ValidationFailed(
            "Finish the checklist first; still to do: {steps}.", field="status", steps=", ".join(left)
        )


def transition_work_order(
    ctx: Context,
    actor: User,
    number: str,
    to: Status,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Move a work order along its lifecycle. `expected_version` (from If-Match or a form) makes a
    stale screen fail with ConcurrentUpdate instead of overwriting someone else's change."""
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        transition_in(ctx, uow, actor, wo, to, note=note, at=now)
    return scope.as_seen_by(ctx, actor, wo)


def transition_in(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, to: Status, *, note: str | None, at: datetime
) -> None:
    """Move `wo` to `to` within the caller's change (a transition, a macro): the rules that go with
    each move — a dispatch needs a receiver, a hop must come back first, the checklist is done before
    resolving, and the customer is told it was resolved."""
    if to is Status.DISPATCHED:
        raise ValidationFailed(
            "Dispatch it to a team or organisation with an instruction (the Dispatch card, or "
            "POST /api/v1/work-orders/{number}/dispatches).",
            field="to",
            number=wo.number,
        )
    if to is Status.RETURNED and (
        waiting := [h for h in uow.dispatches.of_work_order(wo.id or 0) if h.is_active and h.parent_id is None]
    ):
        raise StateConflict(
            "Dispatch {id} is still waiting for its answer; the receiving party returns or rejects it.",
            id=waiting[0].id,
        )
    if to is Status.RESOLVED:
        require_checklist_done(uow, wo)
    move(ctx, wo, to, actor_id=actor.id or 0, at=at, note=note)
    if to is Status.RESOLVED:
        notify.to_customer(ctx, uow, wo, "resolved", note=(note or "").strip())


def add_note(
    ctx: Context,
    actor: User,
    number: str,
    body: str,
    *,
    customer_visible: bool = False,
    expected_version: int | None = None,
) -> WorkOrderEvent:
    with changing(ctx, actor, Permission.WORKORDER_NOTE, number, expected_version) as (_uow, wo, now):
        event = wo.add_note(actor_id=actor.id or 0, at=now, body=body, customer_visible=customer_visible)
    return event


def change_priority(
    ctx: Context,
    actor: User,
    number: str,
    priority: Priority,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Raise or lower the priority; the time limits follow the policy that now applies (R7, R10)."""
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        reprioritise_in(ctx, uow, actor, wo, priority, reason=reason, at=now)
    return scope.as_seen_by(ctx, actor, wo)


def reprioritise_in(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, priority: Priority, *, reason: str | None, at: datetime
) -> None:
    """Change the priority within the caller's change; the time limits follow the policy that now applies."""
    wo.change_priority(priority, actor_id=actor.id or 0, at=at, reason=reason)
    sla.retarget(ctx, uow, wo, customer_profile(uow, wo.customer_id, at.astimezone(ctx.timezone).date()), at)


def link_work_orders(
    ctx: Context, actor: User, number: str, other: str, *, merge: bool = False, expected_version: int | None = None
) -> WorkOrder:
    """Relate two work orders of the same customer (both timelines say so), or merge `other`, a
    duplicate, into `number`: the duplicate is cancelled with a note pointing here (R1: the customer
    does not have to tell the story twice)."""
    other = other.strip().upper()
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        if other == wo.number:
            raise ValidationFailed("A work order cannot be linked to itself.", field="other")
        if not is_work_order_number(other):
            raise ValidationFailed(
                "{value} is no work-order number (GD + date + 6 digits).", field="other", value=other
            )
        duplicate = load_work_order(ctx, uow, actor, other)
        if merge and duplicate.customer_id != wo.customer_id:
            raise ValidationFailed("Only work orders of the same customer can be merged.", field="other")
        kind = EventKind.MERGED if merge else EventKind.LINKED
        wo.record(
            WorkOrderEvent(
                kind=kind,
                actor_id=actor.id or 0,
                at=now,
                data={"other": duplicate.number, "role": "kept" if merge else "related"},
            )
        )
        duplicate.record(
            WorkOrderEvent(
                kind=kind,
                actor_id=actor.id or 0,
                at=now,
                data={"other": wo.number, "role": "merged" if merge else "related"},
            )
        )
        if merge:
            move(ctx, duplicate, Status.CANCELLED, actor_id=actor.id or 0, at=now, note=f"→ {wo.number}")
        store(ctx, uow, duplicate)
    return scope.as_seen_by(ctx, actor, wo)
