"""Business calendars: when the clock of a time limit runs (R9, B3).

A calendar is either round the clock (24×7) or a set of working intervals per working day, e.g.
08:30–12:00 and 13:30–18:00, or an overnight shift 22:00–06:00 (it belongs to the day it starts
on). Which days are working days comes, in this order, from the admin-editable overrides, from a
public-holiday source such as `chinese-calendar` (holidays and 调休 adjusted working days), and
otherwise from the weekday (Monday to Friday). Durations are exact `timedelta`s of working time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo

from kefu.domain.errors import ValidationFailed

MAX_DAYS = 3 * 366  # a calendar with no working time in three years is a mistake, not a deadline


class DayTypes(Protocol):
    """A source of official working days. None: the source does not know that day (e.g. a future year)."""

    def is_workday(self, day: date) -> bool | None: ...


class WeekdaysOnly:
    def is_workday(self, day: date) -> bool | None:
        return None


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    timezone: ZoneInfo
    #: Working intervals of a working day, local time; empty means 24×7 (every minute counts).
    hours: tuple[tuple[time, time], ...] = ()
    day_types: DayTypes = field(default_factory=WeekdaysOnly)
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for start, end in self.hours:
            if start == end:
                raise ValidationFailed(
                    "A working interval must not be empty ({start}).", field="hours", start=start.strftime("%H:%M")
                )

    @property
    def round_the_clock(self) -> bool:
        return not self.hours

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        official = self.day_types.is_workday(day)
        return official if official is not None else day.weekday() < 5

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in time order, starting with the one that contains or follows `moment`
        (an overnight shift begun the day before included)."""
        local_day = moment.astimezone(self.timezone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            day = local_day + timedelta(days=offset)
            if not self.is_workday(day):
                continue
            for start, end in self.hours:
                begin = datetime.combine(day, start, tzinfo=self.timezone)
                finish = datetime.combine(day + timedelta(days=1) if end <= start else day, end, tzinfo=self.timezone)
                if finish > moment:
                    yield max(begin, moment), finish
        raise ValidationFailed("Calendar {name} has no working time for three years.", field="calendar", name=self.name)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when `amount` of working time has passed after `start`."""
        _aware(start)
        if amount <= timedelta(0):
            return start
        if self.round_the_clock:
            return start + amount
        left = amount
        for begin, finish in self._intervals_from(start):
            span = finish - begin
            if span >= left:
                return begin + left
            left -= span
        raise AssertionError("unreachable")  # pragma: no cover - _intervals_from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero if end is not after start)."""
        _aware(start)
        _aware(end)
        if end <= start:
            return timedelta(0)
        if self.round_the_clock:
            return end - start
        total = timedelta(0)
        for begin, finish in self._intervals_from(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def parse_hours(spec: list[list[str]] | list[tuple[str, str]]) -> tuple[tuple[time, time], ...]:
    """[["08:30", "12:00"], ["13:30", "18:00"]] -> intervals; refuses overlaps within a day."""
    try:
        hours = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in spec)
    except (ValueError, TypeError):
        raise ValidationFailed(
            'Working hours look like [["08:30", "12:00"], ["13:30", "18:00"]].', field="hours"
        ) from None
    daytime = sorted((a, b) for a, b in hours if a < b)
    for (_, end), (start, _) in pairwise(daytime):
        if start < end:
            raise ValidationFailed("Working intervals overlap.", field="hours")
    return hours


def _aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValidationFailed("{name} must carry a timezone.", field="at", name="time")


@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar as stored; kefu.services.sla.clocks turns it into a BusinessCalendar."""

    id: int | None
    name: str
    timezone: str
    hours: list[list[str]]
    chinese_holidays: bool
    overrides: dict[date, bool] = field(default_factory=dict)
