from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.adapters.holidays import ChineseWorkdays
from kefu.domain.calendars import BusinessCalendar, parse_hours
from kefu.domain.sla import (
    ClockName,
    ClockPhase,
    ClockState,
    Conditions,
    EscalationLevel,
    Facts,
    Happening,
    SlaPolicy,
    choose_policy,
    recompute,
    start_clocks,
)
from kefu.domain.workorders import TRANSITIONS, Status

SH = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar(
    "office", SH, parse_hours([["08:30", "12:00"], ["13:30", "18:00"]]), day_types=ChineseWorkdays()
)
H24 = BusinessCalendar("24x7", SH)
T0 = datetime(2026, 9, 28, 10, 0, tzinfo=SH)  # the Monday before the National Day holiday


def facts(**over: object) -> Facts:
    base: dict[str, object] = dict(
        tier="standard",
        type="fault",
        priority="P3",
        severity=3,
        category="broadband.no_connection",
        region="广州",
        channel="hotline",
    )
    base.update(over)
    return Facts(**base)  # type: ignore[arg-type]


def test_first_matching_policy_wins_in_order() -> None:
    vip = SlaPolicy(
        None,
        "VIP complaints",
        1,
        {ClockName.CUSTOMER_REPLY: 480},
        conditions=Conditions(tiers=("vip",), types=("complaint",)),
    )
    complaints = SlaPolicy(
        None, "Complaints", 2, {ClockName.CUSTOMER_REPLY: 2880}, conditions=Conditions(types=("complaint",))
    )
    critical = SlaPolicy(
        None,
        "Sev 1 network",
        0,
        {ClockName.RESOLUTION: 240},
        conditions=Conditions(severities=(1,), categories=("mobile_network", "broadband")),
    )
    fallback = SlaPolicy(None, "Default", 99, {ClockName.RESOLUTION: 2880})
    policies = [fallback, complaints, vip, critical]
    assert choose_policy(policies, facts(tier="vip", type="complaint", severity=None)) is vip
    assert choose_policy(policies, facts(type="complaint", severity=None)) is complaints
    assert choose_policy(policies, facts(severity=1)) is critical
    assert choose_policy(policies, facts(severity=1, category="billing.refund")) is fallback
    assert choose_policy([replace(fallback, active=False)], facts()) is None


def test_thresholds_include_warnings_breach_and_escalations() -> None:
    p = SlaPolicy(
        None,
        "p",
        1,
        {ClockName.RESOLUTION: 60},
        warn_at=(0.5, 0.75),
        escalations=(EscalationLevel(1, 1.0), EscalationLevel(2, 1.5)),
    )
    assert p.thresholds() == (0.5, 0.75, 1.0, 1.5)


def run(
    history: list[Happening], cal: BusinessCalendar, names: list[ClockName], minutes: int = 480
) -> dict[ClockName, ClockState]:
    clocks = start_clocks(names, dict.fromkeys(names, minutes), history[0].at, cal)
    for h in history[1:]:
        clocks = {n: c.apply(h, cal) for n, c in clocks.items()}
    return clocks


def test_resolution_pauses_while_pending_and_carries_the_remaining_time_over_a_holiday() -> None:
    # Registered Mon 28 Sep 10:00 with 8 working hours; pending from 14:00 (2.5 h used: 10–12, 13:30–14)
    # until Fri 9 Oct 09:00, after the National Day holiday; 5.5 h remain.
    history = [
        Happening(T0, Status.NEW),
        Happening(T0 + timedelta(minutes=5), Status.ACCEPTED),
        Happening(T0 + timedelta(minutes=10), Status.IN_PROGRESS),
        Happening(datetime(2026, 9, 28, 14, 0, tzinfo=SH), Status.PENDING),
    ]
    clock = run(history, OFFICE, [ClockName.RESOLUTION])[ClockName.RESOLUTION]
    assert clock.phase is ClockPhase.PAUSED and clock.due_at(OFFICE) is None
    assert clock.elapsed == timedelta(hours=2, minutes=30)
    resumed = clock.apply(Happening(datetime(2026, 10, 9, 9, 0, tzinfo=SH), Status.IN_PROGRESS), OFFICE)
    # 5.5 h left from Fri 9 Oct 09:00: 09:00–12:00 (3 h), 13:30–16:00 (2.5 h).
    assert resumed.due_at(OFFICE) == datetime(2026, 10, 9, 16, 0, tzinfo=SH)


def test_one_shot_clocks_stop_once_and_a_note_only_answers_the_customer() -> None:
    history = [
        Happening(T0, Status.NEW),
        Happening(T0 + timedelta(minutes=3), None, customer_answered=True),
        Happening(T0 + timedelta(minutes=20), Status.ACCEPTED),
    ]
    clocks = run(history, H24, [ClockName.FIRST_RESPONSE, ClockName.CUSTOMER_REPLY, ClockName.RESOLUTION])
    assert clocks[ClockName.CUSTOMER_REPLY].stopped_at == T0 + timedelta(minutes=3)
    assert clocks[ClockName.FIRST_RESPONSE].elapsed == timedelta(minutes=20)
    assert clocks[ClockName.RESOLUTION].phase is ClockPhase.RUNNING


def test_each_dispatch_starts_a_fresh_hop() -> None:
    history = [
        Happening(T0, Status.NEW),
        Happening(T0 + timedelta(hours=1), Status.ACCEPTED),
        Happening(T0 + timedelta(hours=2), Status.DISPATCHED),
        Happening(T0 + timedelta(hours=7), Status.RETURNED),
        Happening(T0 + timedelta(hours=8), Status.DISPATCHED),
    ]
    hop = run(history, H24, [ClockName.HOP], minutes=360)[ClockName.HOP]
    assert hop.laps == 1 and hop.elapsed == timedelta(0)
    assert hop.due_at(H24) == T0 + timedelta(hours=14)


@st.composite
def histories(draw: st.DrawFn) -> list[Happening]:
    at = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1))).replace(tzinfo=SH)
    status = Status.NEW
    out = [Happening(at, Status.NEW)]
    for _ in range(draw(st.integers(0, 25))):
        at += timedelta(minutes=draw(st.integers(0, 60 * 24 * 4)))
        kind = draw(st.sampled_from(["note", "visit", "move", "reclassified"]))
        if kind == "reclassified":  # a correction withdrew clocks the policy now in force lacks
            names = draw(st.frozensets(st.sampled_from(sorted(ClockName)), min_size=1))
            out.append(Happening(at, None, withdrawn=names))
            continue
        if kind == "visit":  # a visit scheduled (True) or the engineer on site / visit cancelled (False)
            out.append(Happening(at, None, onsite=draw(st.booleans())))
            continue
        if kind == "note" or not TRANSITIONS[status]:
            out.append(Happening(at, None, customer_answered=draw(st.booleans())))
            continue
        status = draw(st.sampled_from(sorted(TRANSITIONS[status])))
        out.append(Happening(at, status))
    return out


@settings(max_examples=300, deadline=None)
@given(
    history=histories(),
    cal=st.sampled_from([OFFICE, H24]),
    minutes=st.integers(1, 60 * 24 * 3),
    name=st.sampled_from(
        [
            ClockName.FIRST_RESPONSE,
            ClockName.DIAGNOSIS,
            ClockName.RESOLUTION,
            ClockName.CUSTOMER_REPLY,
            ClockName.HOP,
            ClockName.ONSITE,
        ]
    ),
)
def test_recomputing_from_history_equals_the_incremental_state(
    history: list[Happening], cal: BusinessCalendar, minutes: int, name: ClockName
) -> None:
    incremental = run(history, cal, [name], minutes)[name]
    again = recompute(name, minutes, history, cal)
    assert replace(incremental, fired=0) == again
    if incremental.phase is ClockPhase.RUNNING:
        due, since = incremental.due_at(cal), incremental.running_since
        assert since is not None  # a running clock knows since when
        assert (
            due is not None and cal.between(since, due) + incremental.elapsed == timedelta(minutes=minutes)
        ) or incremental.elapsed >= timedelta(minutes=minutes)


def test_the_onsite_clock_runs_from_each_visit_until_the_engineer_checks_in() -> None:
    history = [
        Happening(T0, Status.NEW),
        Happening(T0 + timedelta(hours=1), None, onsite=True),
        Happening(T0 + timedelta(hours=5), None, onsite=False),
    ]
    onsite = run(history, H24, [ClockName.ONSITE], 24 * 60)[ClockName.ONSITE]
    assert onsite.phase is ClockPhase.STOPPED and onsite.elapsed == timedelta(hours=4)
    revisit = onsite.apply(Happening(T0 + timedelta(days=1), None, onsite=True), H24)
    assert revisit.phase is ClockPhase.RUNNING and revisit.elapsed == timedelta(0) and revisit.laps == 1
    assert revisit.apply(Happening(T0 + timedelta(days=1, hours=1), Status.RESOLVED), H24).phase is ClockPhase.STOPPED
