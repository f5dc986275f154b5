"""Tag names and uploaded files' names and types, as the domain cleans and checks them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.attachments import AttachmentTooLarge, allowed_type, check_upload, clean_filename
from kefu.domain.errors import ValidationFailed
from kefu.domain.tags import MAX_PER_WORK_ORDER, clean_tag, clean_tags


def test_tags_are_trimmed_normalised_and_counted_once() -> None:
    assert clean_tag("  投诉   回访 ") == "投诉 回访"
    assert clean_tag("ｃａｆé".replace("é", "e\u0301")) == "ｃａｆé"  # NFC
    assert clean_tags(["a", " a", "b"]) == ["a", "b"]
    with pytest.raises(ValidationFailed):
        clean_tags(["t"] * (MAX_PER_WORK_ORDER + 1))


@pytest.mark.parametrize("bad", ["", "   ", "x" * 41, "a\x00", "a,b", "甲，乙", "\u200bzero", "bell\x07"])
def test_bad_tags_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_tag(bad)
    assert refused.value.field == "tags"


@given(st.text(max_size=400))
def test_any_file_name_becomes_a_safe_one(raw: str) -> None:
    name = clean_filename(raw)
    assert 1 <= len(name) <= 200
    assert "/" not in name and "\\" not in name and name not in (".", "..")
    assert all(ch.isprintable() or ch == " " for ch in name)


def test_types_and_sizes() -> None:
    assert allowed_type("image/png") and allowed_type("application/pdf; charset=binary")
    assert not allowed_type("image/svg+xml") and not allowed_type("text/html") and not allowed_type("")
    assert check_upload("../a.PNG", "IMAGE/PNG", 3, max_bytes=10) == ("a.PNG", "image/png")
    with pytest.raises(AttachmentTooLarge):
        check_upload("a.png", "image/png", 11, max_bytes=10)
    with pytest.raises(ValidationFailed):
        check_upload("a.png", "image/png", 0, max_bytes=10)
