from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.adapters.holidays import ChineseWorkdays
from kefu.domain.calendars import BusinessCalendar, parse_hours
from kefu.domain.errors import ValidationFailed

SH = ZoneInfo("Asia/Shanghai")
OFFICE = parse_hours([["08:30", "12:00"], ["13:30", "18:00"]])


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, tz: ZoneInfo = SH) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def office(**kw: object) -> BusinessCalendar:
    return BusinessCalendar("office", SH, OFFICE, day_types=ChineseWorkdays(), **kw)  # type: ignore[arg-type]


def test_round_the_clock_counts_every_minute() -> None:
    cal = BusinessCalendar("24x7", SH)
    start = at(2026, 10, 1, 9)  # National Day: a holiday does not stop a 24x7 clock
    assert cal.add(start, timedelta(hours=8)) == at(2026, 10, 1, 17)
    assert cal.between(start, at(2026, 10, 2, 9)) == timedelta(hours=24)


def test_working_hours_skip_lunch_and_the_night() -> None:
    cal = office()
    assert cal.add(at(2026, 11, 19, 11, 0), timedelta(hours=2)) == at(2026, 11, 19, 14, 30)
    assert cal.add(at(2026, 11, 19, 17, 0), timedelta(hours=2)) == at(2026, 11, 20, 9, 30)
    assert cal.between(at(2026, 11, 19, 7, 0), at(2026, 11, 19, 20, 0)) == timedelta(hours=8)


def test_national_day_holiday_is_skipped() -> None:
    cal = office()
    # Wed 30 Sep 2026 17:00 + 2 h: 1 h that day, then 1 to 7 Oct are holidays, Thu 8 Oct is a workday.
    assert cal.add(at(2026, 9, 30, 17, 0), timedelta(hours=2)) == at(2026, 10, 8, 9, 30)


def test_adjusted_working_saturday_counts() -> None:
    cal = office()
    assert date(2026, 10, 10).weekday() == 5 and cal.is_workday(date(2026, 10, 10))  # 调休 Saturday
    # Fri 9 Oct 17:00 + 2 h reaches into Saturday the 10th, a working day.
    assert cal.add(at(2026, 10, 9, 17, 0), timedelta(hours=2)) == at(2026, 10, 10, 9, 30)
    assert not cal.is_workday(date(2026, 10, 11))


def test_overrides_win_and_cover_years_the_package_does_not_know() -> None:
    assert ChineseWorkdays().is_workday(date(2027, 2, 8)) is None
    cal = office(overrides={date(2027, 2, 8): False, date(2027, 2, 6): True})
    assert not cal.is_workday(date(2027, 2, 8))  # a Monday given off
    assert cal.is_workday(date(2027, 2, 6))  # a Saturday made a working day
    assert cal.is_workday(date(2027, 2, 9))  # unknown to both: Monday–Friday


def test_overnight_shift_belongs_to_the_day_it_starts() -> None:
    cal = BusinessCalendar("night", SH, parse_hours([["22:00", "06:00"]]))
    assert cal.add(at(2026, 11, 19, 23, 0), timedelta(hours=3)) == at(2026, 11, 20, 2, 0)
    # Friday's shift runs into Saturday morning; Saturday and Sunday have no shift.
    assert cal.add(at(2026, 11, 20, 23, 0), timedelta(hours=10)) == at(2026, 11, 24, 1, 0)
    assert cal.between(at(2026, 11, 21, 1, 0), at(2026, 11, 21, 5, 0)) == timedelta(hours=4)


def test_timezone_of_the_calendar_decides_the_working_day() -> None:
    utc_start = datetime(2026, 11, 19, 23, 0, tzinfo=ZoneInfo("UTC"))  # 07:00 Friday in Shanghai
    assert office().add(utc_start, timedelta(minutes=30)) == at(2026, 11, 20, 9, 0)
    berlin = BusinessCalendar("de", ZoneInfo("Europe/Berlin"), OFFICE)
    berlin_nine = datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.add(utc_start, timedelta(minutes=30)) == berlin_nine


def test_bad_hours_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        parse_hours([["08:30", "12:00"], ["11:00", "13:00"]])
    with pytest.raises(ValidationFailed):
        parse_hours([["8.30", "x"]])


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)).map(
    lambda d: d.replace(tzinfo=SH)
)


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=st.integers(0, 60 * 24 * 20), split=st.floats(0, 1))
def test_add_and_between_agree_and_add_up(start: datetime, minutes: int, split: float) -> None:
    cal = office()
    end = cal.add(start, timedelta(minutes=minutes))
    assert cal.between(start, end) == timedelta(minutes=minutes)
    middle = start + (end - start) * split
    assert cal.between(start, middle) + cal.between(middle, end) == timedelta(minutes=minutes)
