"""Checking in on site: not hours before the booked slot (a new engineer's check-in was accepted
at 05:16 for a 09:00–11:00 slot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.domain.errors import ValidationFailed
from kefu.domain.visits import Visit, VisitStatus
from kefu.i18n import translate_error

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOOKED = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def booked() -> Visit:
    return Visit.schedule(
        work_order_id=1,
        engineer_id=2,
        window_start=BOOKED,
        window_end=BOOKED + timedelta(hours=2),
        address="佛山市南城街道新港路157号",
        tools=[],
        parts=[],
        actor_id=3,
        at=BOOKED - timedelta(days=1),
    )


def test_check_in_hours_before_the_slot_is_refused_with_the_slot_and_the_rule() -> None:
    visit = booked()
    with pytest.raises(ValidationFailed) as refused:
        visit.check_in(actor_id=2, at=datetime(2026, 11, 30, 5, 16, tzinfo=SHANGHAI), tz=SHANGHAI)
    assert refused.value.field == "check_in" and visit.status is VisitStatus.SCHEDULED
    text = translate_error("zh_CN", refused.value.template, refused.value.params)
    assert "签到过早" in text and "2026-11-30 09:00" in text and "120 分钟" in text


@pytest.mark.parametrize("minutes_before", [120, 30, 0, -45])
def test_check_in_within_the_tolerance_or_during_the_slot_is_taken(minutes_before: int) -> None:
    visit = booked()
    at = (BOOKED - timedelta(minutes=minutes_before)).astimezone(UTC)
    visit.check_in(actor_id=2, at=at, tz=SHANGHAI)
    assert visit.status is VisitStatus.ON_SITE and visit.checked_in_at == at


def test_the_tolerance_is_a_setting() -> None:
    visit = booked()
    with pytest.raises(ValidationFailed):
        visit.check_in(actor_id=2, at=BOOKED - timedelta(minutes=31), early=timedelta(minutes=30))
    visit.check_in(actor_id=2, at=BOOKED - timedelta(minutes=29), early=timedelta(minutes=30))
    assert visit.status is VisitStatus.ON_SITE
