"""Official working days of mainland China from the maintained `chinese-calendar` package."""

from __future__ import annotations

from datetime import date

import chinese_calendar


class ChineseWorkdays:
    """Public holidays and 调休 adjusted working days as published by the State Council.

    For a year the installed package does not know yet (it is updated when the next year's
    schedule is announced) it answers None, and the calendar falls back to its overrides and to
    Monday–Friday: admins enter the announced days in the calendar's override table meanwhile.
    """

    def is_workday(self, day: date) -> bool | None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return None
