"""Opaque keyset cursors: the last id of a page, base64url-encoded."""

from __future__ import annotations

import base64
import binascii

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
