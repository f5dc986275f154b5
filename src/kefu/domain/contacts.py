"""Contacts (R1, R6): every message or call between a customer and the centre, on any channel.

A contact is stored once per provider message (the provider's id deduplicates retries), belongs to
a customer, and is threaded into a work order: by a work-order number in its subject or text, else
by an open work order of the same customer and category from the last 72 hours; otherwise the
intake opens a new work order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kefu.domain.errors import ValidationFailed
from kefu.domain.workorders import Channel

THREAD_WINDOW = timedelta(hours=72)
MAX_BODY = 20_000
_NUMBER_IN_TEXT = re.compile(r"GD\d{14}")
#: Where a message with no better clue is filed until someone classifies it (R5 comes later).
UNCLASSIFIED = "general.unclassified"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None = field(default=None, repr=False, compare=False)  # stored apart from the contact

    def describe(self) -> dict[str, object]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass
class Contact:
    id: int | None
    channel: Channel
    direction: Direction
    at: datetime
    customer_id: int | None
    body: str
    address: str | None = None  # the customer's phone, e-mail address or WeChat openid on this contact
    subject: str | None = None
    provider_message_id: str | None = None
    work_order_id: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # channel details (call times, store, auto-reply …)


def clean_body(text: str | None) -> str:
    body = (text or "").replace("\x00", "").strip()
    if len(body) > MAX_BODY:
        raise ValidationFailed("The message is longer than 20,000 characters.", field="text")
    return body


def numbers_in(*texts: str | None) -> list[str]:
    """Work-order numbers mentioned in a subject or text, in order, each once."""
    found: list[str] = []
    for text in texts:
        for match in _NUMBER_IN_TEXT.findall(text or ""):
            if match not in found:
                found.append(match)
    return found


_OUR_MESSAGE_ID = re.compile(r"^<kefu-(\d{1,18})@[^<>\s]+>$")


def our_message(message_id: str) -> int | None:
    """The outbox id of a mail kefu sent (its Message-ID is <kefu-ID@domain>), else None."""
    match = _OUR_MESSAGE_ID.match(message_id)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class OpenCase:
    """An open work order of the customer, as threading sees it."""

    id: int
    number: str
    category: str
    created_at: datetime


def thread_by_matter(cases: list[OpenCase], category: str, at: datetime) -> OpenCase | None:
    """The same matter: an open work order of the same customer and category from the last 72 hours
    (the newest one)."""
    recent = [c for c in cases if c.category == category and at - c.created_at <= THREAD_WINDOW]
    return max(recent, key=lambda c: c.created_at) if recent else None


# --- SMS --------------------------------------------------------------------------------------------

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_parts(text: str) -> list[str]:
    """How a text is split into SMS parts: GSM 7-bit 160 (153 per part when concatenated), else UCS-2
    70 (67 per part) — Chinese always takes UCS-2. Characters outside the basic plane count twice in
    UCS-2 and are never split in half."""
    if all(ch in _GSM7 for ch in text):
        single, part = 160, 153
        units = [1 for _ in text]
    else:
        single, part = 70, 67
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(units) <= single:
        return [text]
    parts, current, used = [], "", 0
    for ch, u in zip(text, units, strict=True):
        if used + u > part:
            parts.append(current)
            current, used = "", 0
        current += ch
        used += u
    if current:
        parts.append(current)
    return parts


# --- messages to customers -------------------------------------------------------------------------


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, values: dict[str, object]) -> str:
    """Fill a template; an unknown placeholder stays empty instead of failing a delivery."""
    return template.format_map(_Blank(values))


def check_template(body: str) -> None:
    """Refuse a template an admin wrote that cannot be filled (a stray brace)."""
    try:
        render(body, {})
    except (ValueError, IndexError, AttributeError):
        raise ValidationFailed(
            "The template has a stray brace; write placeholders as {number}.", field="body"
        ) from None


@dataclass
class CallRecord:
    """One phone call as the CTI platform reported it."""

    id: int | None
    call_id: str
    caller: str
    callee: str | None = None
    queue: str | None = None
    agent_id: int | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    hangup_at: datetime | None = None
    customer_id: int | None = None
    work_order_id: int | None = None
    contact_id: int | None = None
    #: Placed by the centre (click-to-call from a work order): `caller` is then the number dialled.
    outbound: bool = False
