"""Values from outside, checked alike by every entry point (API models, page forms, webhooks, the
command line): whole numbers written in ASCII digits and within a range, moments within the years
kefu computes with, text without NUL characters, and secrets compared in constant time whatever
characters they hold. Each refusal is a ValidationFailed that names the field."""

from __future__ import annotations

import hmac
from datetime import date, datetime, tzinfo

from kefu.domain.errors import N_, ValidationFailed

#: The years a date or moment may fall in. Outside them time-zone arithmetic overflows (year 1
#: minus 8 hours, 9999-12-31 plus 8 hours) and nothing a customer-service centre records lives there.
FIRST_YEAR = 1900
LAST_YEAR = 2999
#: Ids are 64-bit in the database.
MAX_ID = 2**63 - 1
#: The largest whole number any form field or query parameter takes (counts, minutes, positions).
MAX_INT = 2**31 - 1

_ASCII_DIGITS = frozenset("0123456789")


def is_digits(text: str) -> bool:
    """Only ASCII 0-9, at least one (str.isdigit also says yes to "²" and "٣", which int() refuses)."""
    return bool(text) and set(text) <= _ASCII_DIGITS


def whole_number(text: str, field: str, *, low: int = 0, high: int = MAX_INT) -> int:
    """A whole number typed in ASCII digits (an optional minus sign) between `low` and `high`."""
    raw = text.strip()
    digits = raw[1:] if raw.startswith("-") else raw
    if not is_digits(digits) or len(digits) > 19:
        raise ValidationFailed(N_("{name} must be a whole number."), field=field, name=field)
    value = int(raw)
    if not low <= value <= high:
        raise ValidationFailed(
            N_("{name} must be between {low} and {high}."), field=field, name=field, low=low, high=high
        )
    return value


def record_id(text: str, field: str) -> int:
    """A database id (1 … 2**63-1) typed in a form or a query."""
    return whole_number(text, field, low=1, high=MAX_ID)


def within_years(value: datetime | date, field: str) -> None:
    """Refuses a date or moment outside the years kefu computes with (FIRST_YEAR … LAST_YEAR)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationFailed(
            N_("{name} must fall between the years {first} and {last}."),
            field=field,
            name=field,
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )


def moment(text: str, field: str, tz: tzinfo) -> datetime:
    """A date and time typed as ISO 8601 (2026-11-23 09:00, with or without an offset); without an
    offset it is local time in `tz`. Aware and within the years kefu computes with."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            N_("Enter a date and time for {name}, e.g. 2026-11-23 09:00."), field=field, name=field
        ) from None
    within_years(parsed, field)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def day(text: str, field: str) -> date:
    """A date typed as 2026-12-31, within the years kefu computes with."""
    try:
        parsed = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(N_("Enter a date for {name}, e.g. 2026-12-31."), field=field, name=field) from None
    within_years(parsed, field)
    return parsed


def plain_text(text: str, field: str, *, max_length: int | None = None) -> str:
    """Text without NUL characters (the database refuses them) and at most `max_length` long."""
    if "\x00" in text:
        raise ValidationFailed(N_("{name} must not contain NUL characters."), field=field, name=field)
    if max_length is not None and len(text) > max_length:
        raise ValidationFailed(N_("{name} is longer than {n} characters."), field=field, name=field, n=max_length)
    return text


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a secret (signature, CSRF token, code) with what a client sent;
    any characters at all (hmac.compare_digest raises TypeError on non-ASCII text)."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))
