"""Threading, SMS splitting and message templates (plain Python)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.contacts import OpenCase, check_template, numbers_in, render, sms_parts, thread_by_matter
from kefu.domain.errors import ValidationFailed

T = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_sms_parts_follow_gsm_and_ucs2_limits() -> None:
    assert sms_parts("a" * 160) == ["a" * 160]
    assert [len(p) for p in sms_parts("a" * 161)] == [153, 8]
    assert sms_parts("你" * 70) == ["你" * 70]
    assert [len(p) for p in sms_parts("你" * 71)] == [67, 4]
    assert [len(p) for p in sms_parts("a" * 150 + "你")] == [67, 67, 17]  # one Chinese character makes it UCS-2
    # A character outside the basic plane takes two UCS-2 units and is never cut in half.
    parts = sms_parts("😀" * 40)
    assert "".join(parts) == "😀" * 40 and all(len(p) * 2 <= 67 for p in parts)


@given(st.text(min_size=1, max_size=400))
def test_sms_parts_keep_the_text(text: str) -> None:
    parts = sms_parts(text)
    assert "".join(parts) == text
    assert len(parts) == 1 or all(p for p in parts)


def test_numbers_in_subject_and_text() -> None:
    assert numbers_in("Re: 宽带 [GD20261122000123]", "见 GD20261122000123 和 GD20261121000007") == [
        "GD20261122000123",
        "GD20261121000007",
    ]
    assert numbers_in("GD2026112200012", None) == []  # too short


def test_the_same_matter_is_the_newest_open_order_of_the_category_within_72_hours() -> None:
    cases = [
        OpenCase(1, "GD1", "broadband.slow_speed", T - timedelta(hours=80)),
        OpenCase(2, "GD2", "broadband.slow_speed", T - timedelta(hours=10)),
        OpenCase(3, "GD3", "billing.dispute", T - timedelta(hours=1)),
    ]
    assert thread_by_matter(cases, "broadband.slow_speed", T).id == 2  # type: ignore[union-attr]
    assert thread_by_matter(cases[:1], "broadband.slow_speed", T) is None  # too old
    assert thread_by_matter(cases, "fixed_line.noise", T) is None


def test_templates_fill_known_placeholders_and_refuse_stray_braces() -> None:
    assert render("工单 {number}{promise}", {"number": "GD1"}) == "工单 GD1"
    check_template("工单 {number}")
    with pytest.raises(ValidationFailed):
        check_template("工单 {number")
