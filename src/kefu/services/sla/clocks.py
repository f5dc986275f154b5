"""Time limits on work orders: set clocks when a work order is registered, follow its history,
fire warnings, breaches and escalations exactly once, and show where each clock stands.

Clock rows change in the same transaction as the work-order change that moves them; the worker
(`tick`) claims due rows with FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never fire
the same threshold twice, and a worker killed mid-tick leaves its rows to the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from kefu.domain.calendars import BusinessCalendar, WeekdaysOnly, parse_hours
from kefu.domain.customers import CustomerProfile
from kefu.domain.errors import ConcurrentUpdate
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.sla import (
    ClockName,
    ClockPhase,
    ClockRecord,
    ClockState,
    EscalationLevel,
    Facts,
    ServiceAgreement,
    SlaPolicy,
    choose_policy,
    clock_names_for,
    happening_of,
    recompute,
    start_clocks,
)
from kefu.domain.workorders import WorkOrder
from kefu.services.access.system import system_id
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

BREACH = 1.0


@dataclass(frozen=True)
class SlaSetup:
    policies: list[SlaPolicy]
    calendars: dict[str, BusinessCalendar]

    @cached_property
    def _by_id(self) -> dict[int, SlaPolicy]:
        return {p.id: p for p in self.policies if p.id is not None}

    def policy_of(self, record: ClockRecord) -> SlaPolicy | None:
        return self._by_id.get(record.policy_id) if record.policy_id is not None else None

    def thresholds_of(self, record: ClockRecord) -> tuple[float, ...]:
        policy = self.policy_of(record)
        return policy.thresholds() if policy else (BREACH,)

    def calendar(self, name: str) -> BusinessCalendar:
        return self.calendars.get(name) or self.calendars["24x7"]


def setup(ctx: Context, uow: UnitOfWork) -> SlaSetup:
    """Policies and calendars, cached for `ctx.cache_ttl` (they change rarely and are read on every create)."""
    cached = ctx.caches.sla.get("setup")
    if isinstance(cached, SlaSetup):
        return cached
    calendars = {
        spec.name: BusinessCalendar(
            spec.name,
            ZoneInfo(spec.timezone),
            parse_hours(spec.hours),
            day_types=ctx.day_types if spec.chinese_holidays else WeekdaysOnly(),
            overrides=spec.overrides,
        )
        for spec in uow.sla.calendars()
    }
    calendars.setdefault("24x7", BusinessCalendar("24x7", ctx.timezone))
    found = SlaSetup(policies=uow.sla.policies(), calendars=calendars)
    ctx.caches.sla.put("setup", found)
    return found


@dataclass(frozen=True)
class Plan:
    policy: SlaPolicy | None
    agreement: ServiceAgreement | None
    targets: dict[ClockName, int]
    calendar: str

    @property
    def thresholds(self) -> tuple[float, ...]:
        return self.policy.thresholds() if self.policy else (BREACH,)


def plan_for(ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile) -> Plan:
    policy = choose_policy(setup(ctx, uow).policies, Facts.of(wo, profile))
    agreement = uow.sla.agreement(profile.agreement_id) if profile.agreement_id else None
    targets = policy.targets_for(profile.tier.value) if policy else {}
    if agreement is not None:
        targets.update(agreement.targets)
    calendar = (agreement.calendar if agreement and agreement.calendar else None) or (
        policy.calendar if policy else "24x7"
    )
    return Plan(policy, agreement, targets, calendar)


def _plan_data(plan: Plan) -> dict[str, object]:
    return {
        "policy": plan.policy.name if plan.policy else None,
        "agreement": plan.agreement.name if plan.agreement else None,
        "calendar": plan.calendar,
        "targets": {k.value: v for k, v in plan.targets.items()},
    }


def _applied_event(signer: int, plan: Plan, at: datetime) -> WorkOrderEvent:
    return WorkOrderEvent(kind=EventKind.SLA_APPLIED, actor_id=signer, at=at, data={**_plan_data(plan), "moved": True})


def announce(ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile) -> Plan:
    """Choose the time limits of a new work order. They are recorded with its registration event
    (one row where a separate event would cost a second insert on the intake path); later moves
    of the deadlines get `sla_applied` events of their own."""
    plan = plan_for(ctx, uow, wo, profile)
    if plan.targets:
        wo.note_time_limits(_plan_data(plan))
    return plan


def prepare(ctx: Context, uow: UnitOfWork, wo: WorkOrder, plan: Plan) -> list[ClockRecord]:
    """The clocks of a work order about to be stored; its earliest deadline goes on the work order
    itself (`next_due_at`, what "due within the hour" reads), in the same INSERT."""
    calendar = setup(ctx, uow).calendar(plan.calendar)
    states = start_clocks(clock_names_for(wo.type.value, plan.targets), plan.targets, wo.created_at, calendar)
    records = [
        ClockRecord(
            work_order_id=0,
            state=state,
            calendar=plan.calendar,
            policy_id=plan.policy.id if plan.policy else None,
            agreement_id=plan.agreement.id if plan.agreement else None,
        ).refreshed(calendar, plan.thresholds)
        for state in states.values()
    ]
    wo.next_due_at = earliest_due(records)
    return records


def start(uow: UnitOfWork, wo: WorkOrder, prepared: list[ClockRecord]) -> None:
    """Store the prepared clocks of a stored work order."""
    assert wo.id is not None
    uow.sla.add_clocks([replace(r, work_order_id=wo.id) for r in prepared])


def earliest_due(records: Iterable[ClockRecord]) -> datetime | None:
    """The first deadline of the clocks that run."""
    dues = [r.due_at for r in records if r.due_at is not None and r.state.phase is ClockPhase.RUNNING]
    return min(dues) if dues else None


def follow(ctx: Context, uow: UnitOfWork, wo: WorkOrder) -> None:
    """Move the work order's clocks as the changes it records (its pending events) require, in the
    same transaction. Called by `kefu.services.changes.store` only: no use case moves a clock by
    hand, so no state change can leave a clock running."""
    happenings = [h for e in wo.events if (h := happening_of(e)) is not None]
    if not happenings or wo.id is None:
        return
    records = uow.sla.clocks(wo.id, lock=True)
    if not records:
        return
    s = setup(ctx, uow)
    changed = []
    for record in records:
        calendar, thresholds = s.calendar(record.calendar), s.thresholds_of(record)
        current = record
        for happening in happenings:
            state = current.state.apply(happening, calendar)
            if state == current.state:
                continue
            updated = replace(current, state=state)
            if state.phase is not ClockPhase.RUNNING and current.breached_at is None and state.elapsed > state.target:
                # Stopped after its deadline before the worker got to it: the breach is recorded now, once.
                due = current.due_at or happening.at
                updated = replace(
                    updated,
                    breached_at=due,
                    state=replace(state, fired=max(state.fired, thresholds.index(BREACH) + 1)),
                )
                wo.record(clock_event(system_id(ctx, uow), EventKind.SLA_BREACHED, record, due, BREACH))
            current = updated.refreshed(calendar, thresholds)
        if current != record:
            changed.append(current)
    uow.sla.save_clocks(changed)
    _note_next_due(wo, records, changed)


def _note_next_due(wo: WorkOrder, records: list[ClockRecord], changed: list[ClockRecord]) -> None:
    """Keep the work order's earliest running deadline (stored with it by the caller's save)."""
    now_in_force = {r.state.name: r for r in records} | {r.state.name: r for r in changed}
    wo.next_due_at = earliest_due(now_in_force.values())


def hop_deadline(ctx: Context, uow: UnitOfWork, wo: WorkOrder, sent_at: datetime) -> datetime | None:
    """When a hop sent at `sent_at` must be answered. A hop's time limit lives on the work order's
    `hop` clock (its target, per customer tier, on its calendar); the deadline stored with each hop
    is derived from it here, when the hop is sent and whenever the target moves (`retarget`)."""
    assert wo.id is not None
    record = next((r for r in uow.sla.clocks(wo.id) if r.state.name is ClockName.HOP), None)
    return _hop_due(ctx, uow, record, sent_at) if record else None


def _hop_due(ctx: Context, uow: UnitOfWork, record: ClockRecord, sent_at: datetime) -> datetime:
    return setup(ctx, uow).calendar(record.calendar).add(sent_at, record.state.target)


def _retime_hops(ctx: Context, uow: UnitOfWork, wo: WorkOrder, hop_clock: ClockRecord) -> None:
    """The hop clock's target moved (e.g. the priority changed): every hop still waiting for its
    answer gets the deadline the new target gives."""
    for hop in uow.dispatches.of_work_order(wo.id or 0):
        due = _hop_due(ctx, uow, hop_clock, hop.created_at)
        if hop.is_active and hop.deadline_at != due:
            version = hop.version
            hop.move_deadline(due)
            if not uow.dispatches.save(hop, version):
                raise ConcurrentUpdate(number=wo.number, current="?", expected=version)


def record_register_clock(
    ctx: Context, uow: UnitOfWork, wo: WorkOrder, plan: Plan, answered_at: datetime, registered_at: datetime
) -> None:
    """The `register` clock of a work order opened during a call: it ran from the answer to the
    registration, so it is stored already stopped, with its breach recorded if it took too long."""
    assert wo.id is not None
    minutes = plan.targets.get(ClockName.REGISTER)
    if minutes is None:
        return
    calendar = setup(ctx, uow).calendar(plan.calendar)
    state = ClockState(
        name=ClockName.REGISTER,
        target=timedelta(minutes=minutes),
        phase=ClockPhase.STOPPED,
        elapsed=calendar.between(answered_at, registered_at),
        started_at=answered_at,
        stopped_at=registered_at,
    )
    record = ClockRecord(
        work_order_id=wo.id,
        state=state,
        calendar=plan.calendar,
        policy_id=plan.policy.id if plan.policy else None,
        agreement_id=plan.agreement.id if plan.agreement else None,
    )
    if state.elapsed > state.target:
        due = calendar.add(answered_at, state.target)
        record = replace(record, breached_at=due, state=replace(state, fired=len(plan.thresholds)))
        wo.record(clock_event(system_id(ctx, uow), EventKind.SLA_BREACHED, record, due, BREACH))
        uow.work_orders.append_events(wo)
    uow.sla.add_clocks([record.refreshed(calendar, plan.thresholds)])


def ensure_clock(ctx: Context, uow: UnitOfWork, wo: WorkOrder, name: ClockName, at: datetime) -> None:
    """Give a work order a clock it does not have yet (e.g. `onsite` with its first visit), on the
    policy that applies now; nothing when the policy sets no target for it."""
    assert wo.id is not None
    if any(r.state.name is name for r in uow.sla.clocks(wo.id)):
        return
    profile = uow.customers.profile_of(wo.customer_id, at.astimezone(ctx.timezone).date())
    if profile is None:
        return
    plan = plan_for(ctx, uow, wo, profile)
    if name not in plan.targets:
        return
    calendar = setup(ctx, uow).calendar(plan.calendar)
    state = ClockState(name=name, target=timedelta(minutes=plan.targets[name]))
    uow.sla.add_clocks(
        [
            ClockRecord(
                work_order_id=wo.id,
                state=state,
                calendar=plan.calendar,
                policy_id=plan.policy.id if plan.policy else None,
                agreement_id=plan.agreement.id if plan.agreement else None,
            ).refreshed(calendar, plan.thresholds)
        ]
    )


def retarget(ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile, at: datetime) -> None:
    """After a change to what policies look at (e.g. priority): deadlines follow the policy that now applies."""
    assert wo.id is not None
    plan = plan_for(ctx, uow, wo, profile)
    records = uow.sla.clocks(wo.id, lock=True)
    if _moved_targets(ctx, uow, wo, plan, records):
        wo.record(_applied_event(system_id(ctx, uow), plan, at))


def _moved_targets(ctx: Context, uow: UnitOfWork, wo: WorkOrder, plan: Plan, records: list[ClockRecord]) -> bool:
    """Give the clocks the targets of `plan` (their history stays); whether any moved."""
    s = setup(ctx, uow)
    changed = []
    for record in records:
        minutes = plan.targets.get(record.state.name)
        policy_id = plan.policy.id if plan.policy else None
        if minutes is None or (timedelta(minutes=minutes) == record.state.target and policy_id == record.policy_id):
            continue
        calendar = s.calendar(record.calendar)
        updated = replace(record, policy_id=policy_id, state=replace(record.state, target=timedelta(minutes=minutes)))
        changed.append(updated.refreshed(calendar, plan.thresholds))
    if changed:
        uow.sla.save_clocks(changed)
        _note_next_due(wo, records, changed)
        if hop_clock := next((r for r in changed if r.state.name is ClockName.HOP), None):
            _retime_hops(ctx, uow, wo, hop_clock)
    return bool(changed)


def reevaluate(
    ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile, at: datetime, *, reason: str | None
) -> None:
    """After a correction of what policies look at (type, category, customer, severity), before
    the work order is stored: the clocks follow the policy that now applies. Targets move as in
    `retarget`; a clock the work order now needs (a complaint's `customer_reply`) is added as
    `recompute` derives it from the whole stored history; a clock it no longer has is withdrawn —
    stopped where it stands, its history kept — by the `sla_applied` event that names it, which
    `happening_of` reads, so the stored clocks stay equal to `recompute` over the timeline. The
    event carries the policy, what moved and the reason the page shows."""
    assert wo.id is not None
    plan = plan_for(ctx, uow, wo, profile)
    records = uow.sla.clocks(wo.id, lock=True)
    moved = _moved_targets(ctx, uow, wo, plan, records)
    have = {r.state.name: r for r in records}
    history = [h for e in uow.work_orders.history(wo.id) if (h := happening_of(e)) is not None]
    wanted = clock_names_for(wo.type.value, plan.targets, visited=any(h.onsite is not None for h in history))
    withdrawn = sorted(
        name
        for name, r in have.items()
        if name not in wanted and name is not ClockName.REGISTER and r.state.phase is not ClockPhase.STOPPED
    )
    s = setup(ctx, uow)
    calendar = s.calendar(plan.calendar)
    added = [
        ClockRecord(
            work_order_id=wo.id,
            state=recompute(name, plan.targets[name], history, calendar),
            calendar=plan.calendar,
            policy_id=plan.policy.id if plan.policy else None,
            agreement_id=plan.agreement.id if plan.agreement else None,
        ).refreshed(calendar, plan.thresholds)
        for name in wanted
        if name not in have
    ]
    if added:
        uow.sla.add_clocks(added)
        _note_next_due(wo, list(uow.sla.clocks(wo.id)), [])
    if moved or added or withdrawn:
        event = _applied_event(system_id(ctx, uow), plan, at)
        data: dict[str, object] = {**event.data, "added": [r.state.name.value for r in added]}
        data["withdrawn"] = [n.value for n in withdrawn]
        wo.record(replace(event, note=reason, data=data))


def clock_event(
    signer: int,
    kind: EventKind,
    record: ClockRecord,
    at: datetime,
    fraction: float,
    level: EscalationLevel | None = None,
) -> WorkOrderEvent:
    """A clock's warning, breach or escalation, signed by the system account (`signer`)."""
    data: dict[str, object] = {
        "clock": record.state.name.value,
        "fraction": fraction,
        "target_minutes": record.state.target // timedelta(minutes=1),
    }
    if level is not None:
        data["level"] = level.level
    return WorkOrderEvent(kind=kind, actor_id=signer, at=at, data=data)


@dataclass(frozen=True)
class ClockView:
    """Where one clock of a work order stands, for screens and the API."""

    name: ClockName
    state: str  # not_started | running | warned | paused | met | breached
    target_minutes: int
    due_at: datetime | None
    remaining_minutes: int  # working minutes left; negative once overdue
    started_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None


def views(ctx: Context, uow: UnitOfWork, work_order_id: int) -> list[ClockView]:
    s = setup(ctx, uow)
    now = ctx.clock.now()
    out = []
    for record in uow.sla.clocks(work_order_id):
        st = record.state
        calendar = s.calendar(record.calendar)
        overdue = st.breached(calendar, now)
        if st.started_at is None:
            state = "not_started"  # e.g. the hop clock before the first dispatch
        elif record.breached_at is not None or overdue:
            state = "breached"
        elif st.phase is ClockPhase.RUNNING:
            state = "warned" if st.fired > 0 else "running"
        elif st.phase is ClockPhase.PAUSED:
            state = "paused"
        else:
            state = "met"
        out.append(
            ClockView(
                name=st.name,
                state=state,
                target_minutes=st.target // timedelta(minutes=1),
                due_at=record.due_at,
                remaining_minutes=int(st.remaining(calendar, now).total_seconds() // 60),
                started_at=st.started_at,
                stopped_at=st.stopped_at,
                breached_at=record.breached_at,
            )
        )
    order = list(ClockName)
    return sorted(out, key=lambda v: order.index(v.name))


def rebuild_clocks(ctx: Context, work_order_ids: list[int]) -> int:
    """Give work orders that have none the clocks their history implies (e.g. after a bulk load or
    an import), derived from scratch with `recompute`. Thresholds already passed are fired by the
    next worker tick, at the moments they were due. Returns how many work orders got clocks."""
    done = 0
    with ctx.uow(write=True) as uow:
        s = setup(ctx, uow)
        for wo in uow.work_orders.get_many_by_id(work_order_ids).values():
            assert wo.id is not None
            if uow.sla.clocks(wo.id):
                continue
            profile = uow.customers.profile_of(wo.customer_id, wo.created_at.astimezone(ctx.timezone).date())
            if profile is None:
                continue
            plan = plan_for(ctx, uow, wo, profile)
            calendar = s.calendar(plan.calendar)
            happenings = [h for e in uow.work_orders.history(wo.id) if (h := happening_of(e)) is not None]
            rebuilt = [
                ClockRecord(
                    work_order_id=wo.id,
                    state=recompute(name, plan.targets[name], happenings, calendar),
                    calendar=plan.calendar,
                    policy_id=plan.policy.id if plan.policy else None,
                    agreement_id=plan.agreement.id if plan.agreement else None,
                ).refreshed(calendar, plan.thresholds)
                for name in clock_names_for(
                    wo.type.value, plan.targets, visited=any(h.onsite is not None for h in happenings)
                )
            ]
            uow.sla.add_clocks(rebuilt)
            uow.work_orders.set_next_due(wo.id, earliest_due(rebuilt))
            done += 1
        uow.commit()
    return done
