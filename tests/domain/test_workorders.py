from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kefu.domain.errors import InvalidTransition, ReopenWindowExpired, ValidationFailed
from kefu.domain.events import EventKind
from kefu.domain.workorders import (
    FINISHED_STATUSES,
    TMF_STATUS,
    TRANSITIONS,
    Channel,
    Priority,
    Status,
    WorkOrder,
    WorkOrderType,
    format_number,
    is_work_order_number,
)

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
TMF_ENUM = {"acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "closed", "resolved"}


def new_wo(**over: object) -> WorkOrder:
    args: dict[str, object] = dict(
        number="GD20261121000001",
        customer_id=1,
        type=WorkOrderType.FAULT,
        category="broadband.no_connection",
        channel=Channel.HOTLINE,
        title="宽带断网",
        description="光猫红灯",
        actor_id=7,
        at=T0,
    )
    args.update(over)
    return WorkOrder.register(**args)  # type: ignore[arg-type]


def in_status(status: Status) -> WorkOrder:
    """A work order brought to `status` through legal moves only (breadth-first over the table)."""
    paths: dict[Status, list[Status]] = {Status.NEW: []}
    frontier = [Status.NEW]
    while frontier:
        current = frontier.pop(0)
        for nxt in sorted(TRANSITIONS[current]):
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                frontier.append(nxt)
    wo = new_wo()
    for i, step in enumerate(paths[status]):
        wo.move_to(step, actor_id=7, at=T0 + timedelta(minutes=i + 1), note="reason", reopen_window=WINDOW)
    assert wo.status is status
    return wo


ALL_PAIRS = [(a, b) for a in Status for b in Status]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_is_allowed_exactly_when_the_table_says_so(source: Status, target: Status) -> None:
    wo = in_status(source)
    before = (wo.status, len(wo.events), wo.version)
    at = wo.updated_at + timedelta(minutes=5)
    if target in TRANSITIONS[source]:
        event = wo.move_to(target, actor_id=8, at=at, note="reason", reopen_window=WINDOW)
        assert wo.status is target
        assert (event.from_status, event.to_status, event.actor_id, event.at) == (source.value, target.value, 8, at)
    else:
        with pytest.raises(InvalidTransition) as err:
            wo.move_to(target, actor_id=8, at=at, note="reason", reopen_window=WINDOW)
        assert (wo.status, len(wo.events), wo.version) == before
        assert err.value.allowed == [s.value for s in wo.allowed_moves()]
        for allowed in err.value.allowed:
            assert allowed in err.value.message


def test_every_status_maps_to_one_tmf621_status() -> None:
    assert set(TMF_STATUS) == set(Status)
    assert set(TMF_STATUS.values()) <= TMF_ENUM
    assert {TMF_STATUS[s] for s in FINISHED_STATUSES} == {"rejected", "cancelled", "closed"}


def test_finished_statuses_allow_no_move_except_reopening_a_closed_one() -> None:
    assert TRANSITIONS[Status.REJECTED] == frozenset() and TRANSITIONS[Status.CANCELLED] == frozenset()
    assert TRANSITIONS[Status.CLOSED] == frozenset({Status.IN_PROGRESS})


def test_reopen_within_window_counts_and_after_window_is_refused() -> None:
    wo = in_status(Status.CLOSED)
    closed_at = wo.closed_at
    assert closed_at is not None
    wo.move_to(Status.IN_PROGRESS, actor_id=7, at=closed_at + WINDOW, reopen_window=WINDOW)
    assert wo.reopen_count == 1 and wo.closed_at is None
    late = in_status(Status.CLOSED)
    assert late.closed_at is not None
    with pytest.raises(ReopenWindowExpired):
        late.move_to(
            Status.IN_PROGRESS, actor_id=7, at=late.closed_at + WINDOW + timedelta(seconds=1), reopen_window=WINDOW
        )
    assert late.status is Status.CLOSED


def test_reject_and_cancel_need_a_reason() -> None:
    wo = new_wo()
    with pytest.raises(ValidationFailed) as err:
        wo.move_to(Status.REJECTED, actor_id=7, at=T0, note="  ", reopen_window=WINDOW)
    assert err.value.field == "note" and wo.status is Status.NEW


def test_registration_sets_first_ask_owner_and_records_creation() -> None:
    wo = new_wo(actor_id=42)
    assert wo.owner_id == 42 and wo.status is Status.NEW
    assert [e.kind for e in wo.events] == [EventKind.CREATED]
    assert wo.severity == 3 and wo.priority is Priority.P3  # fault default; priority follows severity


@pytest.mark.parametrize(("severity", "vip", "expected"), [(1, False, "P1"), (4, True, "P4"), (None, True, "P2")])
def test_default_priority(severity: int | None, vip: bool, expected: str) -> None:
    wo = new_wo(
        severity=severity, customer_is_vip=vip, type=WorkOrderType.FAULT if severity else WorkOrderType.COMPLAINT
    )
    assert wo.priority.value == expected


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"title": "  "}, "title"),
        ({"description": ""}, "description"),
        ({"type": WorkOrderType.INQUIRY, "severity": 2}, "severity"),
        ({"severity": 5}, "severity"),
        ({"promised_at": T0 - timedelta(hours=1)}, "promised_at"),
        ({"fault_time": T0 + timedelta(days=1)}, "fault_time"),
        ({"at": datetime(2026, 11, 21, 9, 0)}, "at"),
    ],
)
def test_registration_refuses_bad_input_naming_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        new_wo(**over)
    assert err.value.field == field


def test_number_format() -> None:
    assert format_number(datetime(2026, 1, 5).date(), 42) == "GD20260105000042"
    assert is_work_order_number("GD20260105000042") and not is_work_order_number("GD2026010500004")
    with pytest.raises(ValueError):
        format_number(datetime(2026, 1, 5).date(), 1_000_000)


class Lifecycle(RuleBasedStateMachine):
    """Random walks through the lifecycle, legal and illegal moves mixed."""

    def __init__(self) -> None:
        super().__init__()
        self.wo = new_wo(actor_id=1)
        self.now = T0
        self.moves = 0
        self.reopens = 0

    @rule(to=st.sampled_from(list(Status)), actor=st.integers(1, 5), minutes=st.integers(1, 60 * 24 * 40))
    def move(self, to: Status, actor: int, minutes: int) -> None:
        target = to
        self.now += timedelta(minutes=minutes)
        previous = self.wo.status
        legal = target in TRANSITIONS[previous]
        expired = previous is Status.CLOSED and self.wo.closed_at is not None and self.now - self.wo.closed_at > WINDOW
        try:
            self.wo.move_to(target, actor_id=actor, at=self.now, note="n", reopen_window=WINDOW)
        except InvalidTransition:
            assert not legal
        except ReopenWindowExpired:
            assert legal and expired
        else:
            assert legal and not expired
            self.moves += 1
            if previous in (Status.RESOLVED, Status.CALLBACK, Status.CLOSED) and target is Status.IN_PROGRESS:
                self.reopens += 1

    @precondition(lambda self: self.wo.status not in FINISHED_STATUSES)
    @rule(body=st.text(min_size=1, max_size=20).filter(str.strip))
    def note(self, body: str) -> None:
        self.wo.add_note(actor_id=2, at=self.now, body=body, customer_visible=False)

    @invariant()
    def owner_never_changes(self) -> None:
        assert self.wo.owner_id == 1

    @invariant()
    def history_explains_the_status(self) -> None:
        changes = [e for e in self.wo.events if e.kind is EventKind.STATUS_CHANGED]
        assert len(changes) == self.moves
        last = changes[-1].to_status if changes else "new"
        assert last == self.wo.status.value
        for a, b in pairwise(changes):
            assert a.to_status == b.from_status
            assert Status(b.to_status) in TRANSITIONS[Status(b.from_status)]  # type: ignore[arg-type]
        assert self.wo.reopen_count == self.reopens


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
