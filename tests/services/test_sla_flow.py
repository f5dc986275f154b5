"""Time limits through the services, with a clock the test moves, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kefu.adapters.db.tables import notifications, outbox
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.customers import Tier
from kefu.domain.notifications import QuietHours
from kefu.domain.org import Role, User
from kefu.domain.sla import ClockName, Conditions, ServiceAgreement, SlaPolicy
from kefu.domain.workorders import Channel, Priority, Status, WorkOrderType
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.ports import WorkOrderFilter
from kefu.services.sla import admin as sla_admin
from kefu.services.sla.timers import deliver_outbox, tick
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries
from tests.support.databases import Database
from tests.support.factories import new_user, unique_phone
from tests.support.kefus import make_kefu

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def timed(database: Database, kefu: Kefu) -> Iterator[tuple[Kefu, FixedClock]]:
    """kefu on the session database with a clock the test moves (starting at a weekday morning)."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    k = make_kefu(database.url, clock=clock, quiet_hours="")
    yield k, clock
    k.engine.dispose()


def _agent(k: Kefu, role: Role = Role.SUPERVISOR) -> User:
    return new_user(k, role, prefix="sla")


def _order(
    k: Kefu,
    user: User,
    *,
    tier: str = "standard",
    type: WorkOrderType = WorkOrderType.FAULT,
    category: str = "broadband.no_connection",
    severity: int | None = None,
    customer_id: int | None = None,
) -> str:
    if customer_id is None:
        customer = register_customer(k.ctx, user, NewCustomer(name="周八", phone=unique_phone(), tier=Tier(tier)))
        assert customer.id is not None
        customer_id = customer.id
    wo, _ = svc.register_work_order(
        k.ctx,
        user,
        svc.NewWorkOrder(
            customer_id=customer_id,
            type=type,
            category=category,
            channel=Channel.HOTLINE,
            title="测试",
            description="测试时限",
            severity=severity,
        ),
    )
    return wo.number


def _clock(k: Kefu, user: User, number: str, name: str) -> dict[str, object]:
    _, clocks = queries.get_work_order(k.ctx, user, number)
    return {c.name.value: c for c in clocks}[name].__dict__


def _kinds(k: Kefu, user: User, number: str) -> list[tuple[str, object]]:
    history, _ = queries.work_order_history(k.ctx, user, number)
    return [
        (e.kind.value, e.data.get("clock"))
        for e in history
        if e.kind.value.startswith("sla_") or e.kind.value == "priority_changed"
    ]


def test_vip_complaint_warns_breaches_and_escalates_each_exactly_once(timed: tuple[Kefu, FixedClock]) -> None:
    k, clock = timed
    user = _agent(k)
    number = _order(k, user, tier="vip", type=WorkOrderType.COMPLAINT, category="billing.disputed_charge")
    assert _clock(k, user, number, "customer_reply")["target_minutes"] == 8 * 60
    assert queries.get_work_order(k.ctx, user, number)[0].priority is Priority.P2
    clock.advance(timedelta(minutes=23))  # 75 % of the 30-minute first response
    tick(k.ctx)
    tick(k.ctx)
    assert _kinds(k, user, number).count(("sla_warning", "first_response")) == 1
    assert _kinds(k, user, number).count(("sla_escalated", "first_response")) == 1
    clock.advance(timedelta(minutes=8))  # past the deadline
    tick(k.ctx)
    tick(k.ctx)
    kinds = _kinds(k, user, number)
    assert kinds.count(("sla_breached", "first_response")) == 1
    assert ("priority_changed", None) in kinds  # level 2 raises the priority
    assert queries.get_work_order(k.ctx, user, number)[0].priority is Priority.P1
    assert _clock(k, user, number, "first_response")["state"] == "breached"
    deliver_outbox(k.ctx)
    with k.engine.connect() as conn:
        inbox = conn.execute(select(notifications.c.template).where(notifications.c.user_id == user.id)).scalars().all()
    assert "sla_breached" in inbox  # the first-ask owner hears of the breach


def test_pending_pauses_resolution_and_the_rest_carries_over(timed: tuple[Kefu, FixedClock]) -> None:
    k, clock = timed
    user = _agent(k)
    number = _order(k, user)  # broadband line fault: 48 h, 24x7
    due = _clock(k, user, number, "resolution")["due_at"]
    for to in (Status.ACCEPTED, Status.IN_PROGRESS):
        svc.transition_work_order(k.ctx, user, number, to)
    clock.advance(timedelta(hours=2))
    svc.transition_work_order(k.ctx, user, number, Status.PENDING)
    paused = _clock(k, user, number, "resolution")
    assert paused["state"] == "paused" and paused["due_at"] is None
    clock.advance(timedelta(hours=5))
    svc.transition_work_order(k.ctx, user, number, Status.IN_PROGRESS)
    assert _clock(k, user, number, "resolution")["due_at"] == due + timedelta(hours=5)  # type: ignore[operator]


def test_priority_change_moves_deadlines_with_an_event(timed: tuple[Kefu, FixedClock]) -> None:
    k, _ = timed
    admin = _agent(k, Role.ADMIN)
    name = f"P1 ringtone {secrets.token_hex(3)}"
    sla_admin.save_policy(
        k.ctx,
        admin,
        SlaPolicy(
            None,
            name,
            1,
            {ClockName.RESOLUTION: 120, ClockName.FIRST_RESPONSE: 15},
            conditions=Conditions(priorities=("P1",), categories=("value_added.ringtone",)),
        ),
    )
    number = _order(k, admin, type=WorkOrderType.COMPLAINT, category="value_added.ringtone")
    before = _clock(k, admin, number, "resolution")
    assert before["target_minutes"] == 48 * 60
    svc.change_priority(k.ctx, admin, number, Priority.P1, reason="客户情绪激动")
    after = _clock(k, admin, number, "resolution")
    assert after["target_minutes"] == 120 and after["due_at"] < before["due_at"]  # type: ignore[operator]
    history, _ = queries.work_order_history(k.ctx, admin, number)
    moved = [e for e in history if e.kind.value == "sla_applied" and e.data.get("moved")]
    assert len(moved) == 1 and moved[0].data["policy"] == name


def test_a_clock_stopped_after_its_deadline_records_the_breach_once(timed: tuple[Kefu, FixedClock]) -> None:
    k, clock = timed
    user = _agent(k)
    number = _order(k, user)
    clock.advance(timedelta(hours=1))  # first response (30 min) missed, no worker ran
    svc.transition_work_order(k.ctx, user, number, Status.ACCEPTED)
    tick(k.ctx)
    assert _kinds(k, user, number).count(("sla_breached", "first_response")) == 1
    assert _clock(k, user, number, "first_response")["state"] == "breached"


def test_statement_lists_breaches_and_the_credit_owed(timed: tuple[Kefu, FixedClock]) -> None:
    k, clock = timed
    admin = _agent(k, Role.ADMIN)
    customer = register_customer(k.ctx, admin, NewCustomer(name="某某科技有限公司", phone=unique_phone()))
    assert customer.id is not None
    today = clock.now().astimezone(SH).date()
    sla_admin.add_agreement(
        k.ctx,
        admin,
        ServiceAgreement(
            None,
            customer.id,
            "专线 SLA",
            {ClockName.RESOLUTION: 60},
            compensation_fen_per_hour=5000,
            valid_from=today - timedelta(days=1),
        ),
    )
    number = _order(k, admin, customer_id=customer.id)
    assert _clock(k, admin, number, "resolution")["target_minutes"] == 60
    clock.advance(timedelta(hours=3, minutes=30))
    tick(k.ctx)
    statement = sla_admin.sla_statement(k.ctx, admin, customer.id, today.strftime("%Y-%m"))
    lines = [line for line in statement.lines if line.number == number and line.clock is ClockName.RESOLUTION]
    assert len(lines) == 1 and lines[0].late_minutes == 150 and lines[0].credit_fen == 3 * 5000
    assert lines[0].agreement == "专线 SLA"


def test_quiet_hours_hold_back_what_is_not_urgent() -> None:
    quiet = QuietHours(time(22), time(8), SH)
    late = datetime(2026, 11, 20, 23, 30, tzinfo=SH)
    assert quiet.release(late, urgent=False) == datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    assert quiet.release(late, urgent=True) == late
    early = datetime(2026, 11, 21, 6, 0, tzinfo=SH)
    assert quiet.release(early, urgent=False) == datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    noon = datetime(2026, 11, 21, 12, 0, tzinfo=SH)
    assert quiet.release(noon, urgent=False) == noon


def test_quiet_hours_defer_warnings_in_the_outbox(database: Database, kefu: Kefu) -> None:
    night = datetime(2026, 11, 19, 22, 30, tzinfo=SH)  # a Thursday night
    clock = FixedClock(night)
    k = make_kefu(database.url, clock=clock, quiet_hours="22:00-08:00")
    try:
        user = _agent(k)
        number = _order(k, user)
        clock.advance(timedelta(minutes=25))
        tick(k.ctx)
        with k.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.template, outbox.c.deliver_after, outbox.c.urgent).where(
                    outbox.c.payload["number"].as_string() == number,
                    # The customer's acknowledgement (R4) answers the call at once; staff warnings wait.
                    outbox.c.channel == "inbox",
                )
            ).all()
        assert rows and all(r.deliver_after == datetime(2026, 11, 20, 8, 0, tzinfo=SH) for r in rows)
    finally:
        k.engine.dispose()


def test_working_day_overrides_are_editable(timed: tuple[Kefu, FixedClock]) -> None:
    k, _ = timed
    admin = _agent(k, Role.ADMIN)
    sla_admin.set_calendar_day(k.ctx, admin, "office", date(2027, 2, 6), True, "春节调休")
    office = {c.name: c for c in sla_admin.list_calendars(k.ctx, admin)}["office"]
    assert office.overrides[date(2027, 2, 6)] is True


def test_the_work_order_keeps_its_earliest_running_deadline(timed: tuple[Kefu, FixedClock]) -> None:
    """`next_due_at` (what "due within the hour" reads) follows the clocks through every change."""
    k, clock = timed
    user = _agent(k)
    number = _order(k, user)

    def stored() -> tuple[datetime | None, list[datetime]]:
        wo, clocks = queries.get_work_order(k.ctx, user, number)
        return wo.next_due_at, sorted(c.due_at for c in clocks if c.state in ("running", "warned") and c.due_at)

    due, running = stored()
    assert due == running[0]  # first response, 30 min after registration
    clock.advance(timedelta(minutes=5))
    svc.transition_work_order(k.ctx, user, number, Status.ACCEPTED)
    svc.transition_work_order(k.ctx, user, number, Status.IN_PROGRESS)
    due, running = stored()
    assert due is not None and due == running[0] and due > clock.now() + timedelta(minutes=30)  # met: next is later
    svc.transition_work_order(k.ctx, user, number, Status.PENDING, note="等客户在家")
    due, running = stored()
    assert running == [] and due is None  # nothing runs while waiting for the customer
    clock.advance(timedelta(hours=3))
    svc.transition_work_order(k.ctx, user, number, Status.IN_PROGRESS)
    due, running = stored()
    assert due is not None and due == running[0]
    listed = queries.list_work_orders(k.ctx, user, WorkOrderFilter(due_before=due + timedelta(seconds=1)), limit=200)
    assert number in [w.number for w in listed]
    assert number not in [
        w.number
        for w in queries.list_work_orders(
            k.ctx, user, WorkOrderFilter(due_before=due - timedelta(seconds=1)), limit=200
        )
    ]
