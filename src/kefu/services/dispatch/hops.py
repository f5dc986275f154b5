"""Use cases of the cross-team and cross-organisation flow (R14-R16, seed 004).

* `dispatch_work_order`: the party working on a work order sends it to another team or
  organisation. From the owning party it is a top-level hop and the work order becomes
  `dispatched`; from a receiver holding an accepted hop it is passed on (a child hop) and the work
  order stays dispatched.
* `accept_dispatch`, `reject_dispatch`, `return_dispatch`: the receiver's answers. A rejected or
  returned hop goes back to its sender; when that is the owning party, the work order becomes
  `returned` and the owner (首问负责人) answers the customer.

Each hop gets a deadline from the work order's `hop` clock target (VIP 3 h, others 6 h by default),
counted on the clock's calendar. Receivers and senders are told through the outbox.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from kefu.domain.dispatch import Dispatch, HopStatus
from kefu.domain.errors import N_, ConcurrentUpdate, PermissionDenied, StateConflict, ValidationFailed
from kefu.domain.org import Permission, Role, Team, User
from kefu.domain.workorders import OPEN_STATUS_VALUES, Status, WorkOrder
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.changes import changing, changing_part, move
from kefu.services.context import Context
from kefu.services.dispatch import routing
from kefu.services.ports import NumberedHop, UnitOfWork, WorkOrderFilter
from kefu.services.sla import clocks as sla


def _own_organisation(actor: User) -> int:
    if actor.organisation_id is None:
        raise ValidationFailed(
            "Your account belongs to no organisation; ask an administrator to set one.", field="organisation_id"
        )
    return actor.organisation_id


def _receiver(uow: UnitOfWork, to_team_id: int | None, to_organisation_id: int | None) -> tuple[int, int | None]:
    if to_team_id is not None:
        team = uow.org.get_team(to_team_id)
        if team is None:
            raise ValidationFailed("Team {id} does not exist.", field="to_team_id", id=to_team_id)
        if to_organisation_id is not None and to_organisation_id != team.organisation_id:
            raise ValidationFailed("Team {id} belongs to another organisation.", field="to_team_id", id=to_team_id)
        return team.organisation_id, team.id
    if to_organisation_id is None:
        raise ValidationFailed("Name the team or the organisation to dispatch to.", field="to_team_id")
    if uow.org.get_organisation(to_organisation_id) is None:
        raise ValidationFailed("Organisation {id} does not exist.", field="to_organisation_id", id=to_organisation_id)
    return to_organisation_id, None


def holds(actor: User, hop: Dispatch) -> bool:
    """Whether `actor` answers for this hop at the receiving end."""
    if hop.receiver_org_id != actor.organisation_id:
        return False
    return (
        hop.receiver_team_id is None
        or hop.receiver_team_id == actor.team_id
        or actor.role in (Role.SUPERVISOR, Role.ADMIN)
    )


def _held(actor: User, hops: list[Dispatch], *, answerable: bool = False) -> list[Dispatch]:
    """The accepted hops `actor` answers for, oldest first; with `answerable`, only those that wait
    for no answer from a party they were passed on to."""
    waiting = {h.parent_id for h in hops if h.is_active} if answerable else set()
    return [h for h in hops if h.status is HopStatus.ACCEPTED and holds(actor, h) and h.id not in waiting]


def _sender_side(actor: User, wo: WorkOrder, hops: list[Dispatch]) -> Dispatch | None:
    """The hop `actor` holds and passes on (None: `actor` sends from the owning party). A holder may
    ask several parties at once (the home province and HQ); it answers when all have answered."""
    if held := _held(actor, hops):
        return held[-1]
    if wo.organisation_id is not None and actor.organisation_id != wo.organisation_id:
        raise StateConflict("Accept a dispatch of work order {number} before passing it on.", number=wo.number)
    if any(h.is_active and h.parent_id is None for h in hops):
        raise StateConflict(
            "Work order {number} is already dispatched; wait for the answer or its return.", number=wo.number
        )
    return None


def dispatch_work_order(
    ctx: Context,
    actor: User,
    number: str,
    *,
    instruction: str,
    to_team_id: int | None = None,
    to_organisation_id: int | None = None,
    expected_version: int | None = None,
) -> Dispatch:
    """Send the work order to another team or organisation with an instruction and a deadline."""
    require(actor, Permission.WORKORDER_DISPATCH)
    own = _own_organisation(actor)
    with changing(ctx, actor, Permission.WORKORDER_DISPATCH, number, expected_version) as (uow, wo, now):
        assert wo.id is not None and actor.id is not None
        org_id, team_id = _receiver(uow, to_team_id, to_organisation_id)
        hops = uow.dispatches.of_work_order(wo.id)
        parent = _sender_side(actor, wo, hops)
        if parent is None:
            if wo.status is Status.NEW:  # dispatching a new work order accepts it first
                move(ctx, wo, Status.ACCEPTED, actor_id=actor.id, at=now)
            move(ctx, wo, Status.DISPATCHED, actor_id=actor.id, at=now)
        hop = Dispatch.send(
            work_order_id=wo.id,
            parent_id=parent.id if parent else None,
            sender_user_id=actor.id,
            sender_org_id=own,
            sender_team_id=actor.team_id,
            receiver_org_id=org_id,
            receiver_team_id=team_id,
            instruction=instruction,
            at=now,
            deadline_at=sla.hop_deadline(ctx, uow, wo, now),
        )
        uow.dispatches.add(hop)
        wo.record(hop.sent_event())  # its receivers are told (kefu.services.notifications.making)
    return hop


def _answering(
    ctx: Context,
    actor: User,
    dispatch_id: int,
    expected_version: int | None,
) -> AbstractContextManager[tuple[UnitOfWork, Dispatch, WorkOrder, datetime]]:
    """One answer to one hop: the hop and its work order change together, or neither does."""

    def check(hop: Dispatch) -> None:
        if not holds(actor, hop):
            raise PermissionDenied(role=actor.role.value, action=N_("answer dispatches sent to another team"))

    return changing_part(
        ctx,
        actor,
        Permission.WORKORDER_DISPATCH,
        N_("Dispatch"),
        dispatch_id,
        lambda uow: uow.dispatches,
        expected_version,
        check,
    )


def accept_dispatch(ctx: Context, actor: User, dispatch_id: int, *, expected_version: int | None = None) -> Dispatch:
    with _answering(ctx, actor, dispatch_id, expected_version) as (_uow, hop, wo, now):
        wo.record(hop.accept(actor_id=actor.id or 0, at=now))
    return hop


def _no_open_children(uow: UnitOfWork, hop: Dispatch) -> None:
    waiting = [h for h in uow.dispatches.of_work_order(hop.work_order_id) if h.parent_id == hop.id and h.is_active]
    if waiting:
        raise StateConflict(
            "Dispatch {id} still waits for the answer of dispatch {child}.", id=hop.id, child=waiting[0].id
        )


def _back_to_sender(ctx: Context, hop: Dispatch, wo: WorkOrder, actor: User, note: str, now: datetime) -> None:
    """A top-level hop that comes back returns the work order to its owning party (the sender is
    told by the notifications that follow the hop's event)."""
    if hop.parent_id is None:
        move(ctx, wo, Status.RETURNED, actor_id=actor.id or 0, at=now, note=note)


def reject_dispatch(
    ctx: Context, actor: User, dispatch_id: int, *, reason: str, expected_version: int | None = None
) -> Dispatch:
    """Not in our scope: back to the sender with the reason; the sender passes it on elsewhere."""
    with _answering(ctx, actor, dispatch_id, expected_version) as (uow, hop, wo, now):
        _no_open_children(uow, hop)
        wo.record(hop.reject(actor_id=actor.id or 0, at=now, reason=reason))
        _back_to_sender(ctx, hop, wo, actor, hop.answer or "", now)
    return hop


def return_dispatch(
    ctx: Context, actor: User, dispatch_id: int, *, result: str, expected_version: int | None = None
) -> Dispatch:
    """Answer with the result (回单); it travels back to the sender, hop by hop, to the party facing
    the customer."""
    with _answering(ctx, actor, dispatch_id, expected_version) as (uow, hop, wo, now):
        _no_open_children(uow, hop)
        wo.record(hop.return_result(actor_id=actor.id or 0, at=now, result=result))
        _back_to_sender(ctx, hop, wo, actor, hop.answer or "", now)
    return hop


def return_held_hop(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, result: str, now: datetime
) -> Dispatch | None:
    """Inside another use case (a resolving field visit): return the hop the actor's side holds."""
    held = _held(actor, uow.dispatches.of_work_order(wo.id or 0), answerable=True)
    if not held:
        return None
    hop = held[-1]
    version = hop.version
    wo.record(hop.return_result(actor_id=actor.id or 0, at=now, result=result))
    if not uow.dispatches.save(hop, version):
        raise ConcurrentUpdate(number=wo.number, current="?", expected=version)
    _back_to_sender(ctx, hop, wo, actor, result, now)
    return hop


# --- reading -------------------------------------------------------------------------------------


def list_dispatches(ctx: Context, actor: User, number: str) -> list[Dispatch]:
    """The hops of a work order, oldest first: the operator's staff see the whole chain (R15), a
    vendor or partner the hops it is party to."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        assert wo.id is not None
        return scope.shown_hops(ctx, uow, actor, wo, uow.dispatches.of_work_order(wo.id))


@dataclass(frozen=True)
class TeamQueue:
    team: Team
    waiting: list[NumberedHop]  # hops to answer, earliest deadline first, with the number
    unassigned: list[WorkOrder]  # open work orders of the team nobody handles yet
    organisation_waiting: list[NumberedHop]  # hops sent to the organisation (no team named)
    members: list[User]  # who handles work here, with load, capacity and shift


def team_queue(ctx: Context, actor: User, team_id: int, *, limit: int = 100) -> TeamQueue:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        team = routing.visible_team(ctx, uow, actor, team_id)
        unassigned = uow.work_orders.find(
            WorkOrderFilter(
                team_id=team_id,
                unassigned=True,
                statuses=OPEN_STATUS_VALUES,
                visible_to=scope.visible_to(ctx, uow, actor),
            ),
            limit,
        )
        return TeamQueue(
            team=team,
            waiting=uow.dispatches.waiting_for(team_id=team_id, limit=limit),
            unassigned=scope.shown_work_orders(ctx, uow, actor, unassigned),
            members=uow.users.find(roles=(*routing.HANDLER_ROLES, Role.SUPERVISOR), team_id=team_id),
            organisation_waiting=uow.dispatches.waiting_for(organisation_id=team.organisation_id, limit=limit),
        )
