"""Use cases of field service (R13): schedule a visit, check in, complete with the mandatory
function test, cancel; the engineer's day; which engineer to send. And the checklists of service
requests (R17)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kefu.domain.checklists import ChecklistStep, complete_step
from kefu.domain.customers import Customer
from kefu.domain.errors import N_, NotFound, PermissionDenied, StateConflict, ValidationFailed
from kefu.domain.org import Permission, Role, User
from kefu.domain.routing import Candidate
from kefu.domain.sla import ClockName
from kefu.domain.visits import Suggestion, Visit, VisitOutcome, suggest_engineers
from kefu.domain.workorders import Status, WorkOrder
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.changes import changing, changing_part, move
from kefu.services.channels import notify
from kefu.services.context import Context
from kefu.services.dispatch import hops as dispatch
from kefu.services.ports import NumberedVisit, UnitOfWork
from kefu.services.sla import clocks as sla
from kefu.services.workorders.commands import require_checklist_done

ENGINEER_ROLES = (Role.FIELD_ENGINEER,)


@dataclass(frozen=True)
class NewVisit:
    engineer_id: int
    window_start: datetime
    window_end: datetime
    address: str | None = None  # default: the customer's address
    tools: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()


def _engineer(ctx: Context, uow: UnitOfWork, actor: User, engineer_id: int) -> User:
    """An active field engineer of the organisations the actor sees (others: dispatch it to them)."""
    engineer = uow.users.get(engineer_id)
    visible = scope.visible_to(ctx, uow, actor)
    if (
        engineer is None
        or not engineer.active
        or engineer.role not in ENGINEER_ROLES
        or (visible is not None and engineer.organisation_id not in visible)
    ):
        raise ValidationFailed("User {id} is no active field engineer.", field="engineer_id", id=engineer_id)
    return engineer


def schedule_visit(
    ctx: Context, actor: User, number: str, new: NewVisit, *, expected_version: int | None = None
) -> Visit:
    """Book an engineer for a window agreed with the customer; the `onsite` clock starts."""
    with changing(ctx, actor, Permission.WORKORDER_DISPATCH, number, expected_version) as (uow, wo, now):
        assert wo.id is not None and actor.id is not None
        if not wo.is_dispatchable:
            raise StateConflict(
                "Work order {number} is resolved or finished; re-open it before scheduling a visit.", number=wo.number
            )
        engineer = _engineer(ctx, uow, actor, new.engineer_id)
        address = new.address
        if not (address or "").strip():
            customer = uow.customers.get(wo.customer_id)
            address = (customer.address if customer else None) or wo.fault_place or ""
        visit = Visit.schedule(
            work_order_id=wo.id,
            engineer_id=engineer.id or 0,
            window_start=new.window_start,
            window_end=new.window_end,
            address=address or "",
            tools=list(new.tools),
            parts=list(new.parts),
            actor_id=actor.id,
            at=now,
        )
        clash = [
            v
            for v, _ in uow.visits.of_engineers(
                [visit.engineer_id], visit.window_start, visit.window_end, include_done=False
            )
        ]
        if clash:
            raise ValidationFailed(
                "{name} already has a visit from {start} in that window.",
                field="window_start",
                name=engineer.display_name,
                start=clash[0].window_start.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M"),
            )
        uow.visits.add(visit)
        wo.record(visit.scheduled_event())
        sla.ensure_clock(ctx, uow, wo, ClockName.ONSITE, now)
        notify.to_customer(
            ctx, uow, wo, "visit_scheduled", window=notify.when(ctx, visit.window_start, visit.window_end)
        )
    return scope.visit_as_seen_by(ctx, actor, visit)


def _visiting(
    ctx: Context, actor: User, visit_id: int, expected_version: int | None, *, engineer_only: bool = True
) -> AbstractContextManager[tuple[UnitOfWork, Visit, WorkOrder, datetime]]:
    """One change to one visit and its work order. What happens on site is recorded by the engineer
    (or a supervisor); an appointment is cancelled by anyone who may schedule one."""

    def check(visit: Visit) -> None:
        if engineer_only and actor.id != visit.engineer_id and actor.role not in (Role.SUPERVISOR, Role.ADMIN):
            raise PermissionDenied(role=actor.role.value, action=N_("record visits of another engineer"))

    permission = Permission.WORKORDER_TRANSITION if engineer_only else Permission.WORKORDER_DISPATCH
    return changing_part(ctx, actor, permission, N_("Visit"), visit_id, lambda uow: uow.visits, expected_version, check)


def check_in(ctx: Context, actor: User, visit_id: int, *, expected_version: int | None = None) -> Visit:
    """The engineer is on site: the `onsite` clock stops."""
    with _visiting(ctx, actor, visit_id, expected_version) as (_uow, visit, wo, now):
        wo.record(visit.check_in(actor_id=actor.id or 0, at=now, early=ctx.checkin_early, tz=ctx.timezone))
    return scope.visit_as_seen_by(ctx, actor, visit)


@dataclass(frozen=True)
class VisitReport:
    diagnosis: str | None
    function_test_passed: bool | None
    site_cleaned: bool | None
    outcome: VisitOutcome
    repair_actions: str | None = None
    function_test_note: str | None = None
    confirmed_by: str | None = None
    signature: str | None = None


def complete_visit(
    ctx: Context, actor: User, visit_id: int, report: VisitReport, *, expected_version: int | None = None
) -> Visit:
    """Check out with the findings. A resolving visit resolves the work order: if the engineer's team
    holds a dispatch of it, that dispatch is returned with the visit's result first (R14)."""
    with _visiting(ctx, actor, visit_id, expected_version) as (uow, visit, wo, now):
        wo.record(
            visit.complete(
                actor_id=actor.id or 0,
                at=now,
                diagnosis=report.diagnosis,
                repair_actions=report.repair_actions,
                function_test_passed=report.function_test_passed,
                function_test_note=report.function_test_note,
                confirmed_by=report.confirmed_by,
                signature=report.signature,
                site_cleaned=report.site_cleaned,
                outcome=report.outcome,
            )
        )
        if visit.outcome is VisitOutcome.RESOLVED:
            _resolve(ctx, uow, actor, wo, visit, now)
    return scope.visit_as_seen_by(ctx, actor, visit)


def _resolve(ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, visit: Visit, now: datetime) -> None:
    result = "; ".join(x for x in (visit.diagnosis, visit.repair_actions) if x)
    if wo.status is Status.DISPATCHED:
        engineer = uow.users.get(visit.engineer_id) or actor
        dispatch.return_held_hop(ctx, uow, engineer, wo, result, now)
    if wo.status is Status.DISPATCHED:
        return  # further up the chain, the other parties answer in turn
    require_checklist_done(uow, wo)
    if wo.status in (Status.NEW, Status.PENDING):
        step = Status.ACCEPTED if wo.status is Status.NEW else Status.IN_PROGRESS
        move(ctx, wo, step, actor_id=actor.id or 0, at=now)
    move(ctx, wo, Status.RESOLVED, actor_id=actor.id or 0, at=now, note=result)
    notify.to_customer(ctx, uow, wo, "resolved", note=result)


def cancel_visit(
    ctx: Context, actor: User, visit_id: int, *, reason: str, expected_version: int | None = None
) -> Visit:
    with _visiting(ctx, actor, visit_id, expected_version, engineer_only=False) as (_uow, visit, wo, now):
        wo.record(visit.cancel(actor_id=actor.id or 0, at=now, reason=reason))
    return scope.visit_as_seen_by(ctx, actor, visit)


# --- reading -------------------------------------------------------------------------------------


def view_visit(ctx: Context, actor: User, visit_id: int) -> tuple[Visit, WorkOrder, Customer | None]:
    """One visit with its work order (within the actor's data scope) and whom to meet there: the
    customer, masked (the work order's page reveals the phone, audited, to roles that may see it)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        visit = uow.visits.get(visit_id)
        wo = scope.load_work_order_by_id(ctx, uow, actor, visit.work_order_id) if visit else None
        if visit is None or wo is None:
            raise NotFound(kind=N_("Visit"), key=visit_id)
        customer = uow.customers.get(wo.customer_id)
        return scope.shown_visits(ctx, uow, actor, [visit])[0], wo, customer.masked() if customer else None


def list_visits(ctx: Context, actor: User, number: str) -> list[Visit]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        return scope.shown_visits(ctx, uow, actor, uow.visits.of_work_order(wo.id or 0))


def engineer_day(ctx: Context, actor: User, engineer_id: int, day: date) -> list[NumberedVisit]:
    """An engineer's visits of one day (centre's timezone), in time order, with work-order numbers."""
    require(actor, Permission.READ)
    if actor.id != engineer_id and actor.role not in (
        Role.SUPERVISOR,
        Role.ADMIN,
        Role.AUDITOR,
        Role.AGENT,
        Role.TECH_SUPPORT,
    ):
        raise PermissionDenied(role=actor.role.value, action=N_("see other engineers' visits"))
    start = datetime.combine(day, time(0), ctx.timezone)
    with ctx.uow() as uow:
        found = uow.visits.of_engineers([engineer_id], start, start + timedelta(days=1))
        allowed = scope.visible_to(ctx, uow, actor)
        if allowed is not None:  # only visits of work orders in the actor's scope
            seen = uow.work_orders.get_many_by_id(sorted({v.work_order_id for v, _ in found}), visible_to=allowed)
            found = [f for f in found if f.visit.work_order_id in seen]
        shown = scope.shown_visits(ctx, uow, actor, [f.visit for f in found])
        return [NumberedVisit(v, f.number) for v, f in zip(shown, found, strict=True)]


def suggest_engineer(
    ctx: Context, actor: User, number: str, *, duration: timedelta = timedelta(hours=2), limit: int = 5
) -> list[tuple[Suggestion, User]]:
    """Engineers to send, best first: skill in the category, the customer's region, the earliest
    free slot, the lightest load. Off-shift engineers and those at capacity are left out."""
    require(actor, Permission.READ)
    if not timedelta(minutes=15) <= duration <= timedelta(hours=12):
        raise ValidationFailed("A visit takes between 15 minutes and 12 hours.", field="duration_minutes")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        profile = uow.customers.profile_of(wo.customer_id, now.astimezone(ctx.timezone).date())
        region = profile.region if profile else None
        # Engineers of the actor's own organisations, chosen in the query (the work-order page asks
        # for suggestions on every view by someone who may schedule a visit).
        engineers = [
            u
            for u in uow.users.find(roles=ENGINEER_ROLES, organisation_ids=scope.visible_to(ctx, uow, actor))
            if u.id is not None
        ]
        busy: dict[int, list[tuple[datetime, datetime]]] = {u.id or 0: [] for u in engineers}
        for v, _ in uow.visits.of_engineers(
            list(busy), now - timedelta(days=1), now + timedelta(days=8), include_done=False
        ):
            busy[v.engineer_id].append((v.window_start, v.window_end))
        pool = [
            (
                Candidate(
                    u.id or 0, u.open_assigned, u.capacity, u.on_shift, tuple(u.skills), tuple(u.languages), u.region
                ),
                busy[u.id or 0],
            )
            for u in engineers
        ]
        found = suggest_engineers(
            pool, category=wo.category, region=region, duration=duration, now=now, tz=ctx.timezone, limit=limit
        )
        people = {u.id: u for u in engineers}
        return [(s, people[s.engineer_id]) for s in found]


# --- service-request checklists (R17) ------------------------------------------------------------


def checklist(ctx: Context, actor: User, number: str) -> tuple[str, list[ChecklistStep]]:
    """The work order's category (whose template names the steps' fields) and its checklist."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        return wo.category, uow.checklists.steps(wo.id or 0)


def complete_checklist_step(
    ctx: Context, actor: User, number: str, code: str, data: Mapping[str, str], *, expected_version: int | None = None
) -> ChecklistStep:
    """Do the next step of the work order's checklist, recording who, when and what it asks for."""
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        if not wo.is_open:
            raise StateConflict(
                "Work order {number} is finished; its checklist can no longer change.", number=wo.number
            )
        steps = uow.checklists.steps(wo.id or 0)
        step, event = complete_step(wo.category, steps, code, actor_id=actor.id or 0, at=now, data=data)
        uow.checklists.save(wo.id or 0, step)
        wo.record(event)
    return step
