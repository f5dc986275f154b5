"""Opaque keyset cursors: the last id of a page (or, for a sorted list, its sort value and id),
base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from kefu.domain.errors import ValidationFailed


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        last_id = int(value)
        if prefix != "id" or not 0 < last_id < 2**63:
            raise ValueError(raw)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not valid: pass next_cursor from the previous page unchanged.", field="cursor"
        ) from None


def encode_position(position: int) -> str:
    """A cursor for ranked results (search), which are paged by position rather than by id."""
    return base64.urlsafe_b64encode(f"at:{position}".encode()).decode().rstrip("=")


def decode_position(cursor: str | None, most: int) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        position = int(value)
        if prefix != "at" or not 0 < position <= most:
            raise ValueError(raw)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not valid: pass next_cursor from the previous page unchanged.", field="cursor"
        ) from None


def encode_after(sort: str, value: str | datetime, last_id: int) -> str:
    """The cursor of a sorted list: the sort, the last row's sort value and its id."""
    shown = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps(["after", sort, shown, last_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_after(cursor: str | None, sort: str, *, moment: bool) -> tuple[str | datetime, int] | None:
    """The (value, id) a sorted list continues after; `moment`: the sort value is a time."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not (isinstance(raw, list) and len(raw) == 4 and raw[0] == "after" and raw[1] == sort):
            raise ValueError(cursor)
        value, last_id = raw[2], raw[3]
        if not isinstance(value, str) or len(value) > 400 or "\x00" in value:
            raise ValueError(cursor)
        if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 < last_id < 2**63:
            raise ValueError(cursor)
        if not moment:
            return value, last_id
        when = datetime.fromisoformat(value)
        if when.tzinfo is None or not 1900 <= when.year <= 2999:
            raise ValueError(cursor)
        return when.astimezone(UTC), last_id  # in UTC here: year 1 or 9999 with an offset overflowed later
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationFailed(
            "The cursor is not valid: pass next_cursor from the previous page unchanged.", field="cursor"
        ) from None
