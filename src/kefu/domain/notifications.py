"""Messages to people (agents, supervisors, customers) that are sent after the change is committed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from kefu.domain.errors import N_


@dataclass(frozen=True)
class Message:
    channel: str  # "inbox" (in-app) for staff; sms, email, wechat for customers (channel features)
    template: str
    created_at: datetime
    deliver_after: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    #: The text to send when it carries a secret (a one-time code): storage keeps it encrypted and
    #: only the delivery reads it; payload["body"] is the same text with the secret masked.
    secret_body: str | None = None
    recipient_user_id: int | None = None
    recipient: str | None = None
    work_order_id: int | None = None
    urgent: bool = False
    id: int | None = None
    attempts: int = 0


@dataclass(frozen=True)
class QuietHours:
    """Hours in which messages that are not urgent wait (users complain of midnight alerts)."""

    start: time
    end: time
    timezone: ZoneInfo

    def release(self, at: datetime, *, urgent: bool) -> datetime:
        """When a message made at `at` may go out: at once, or when the quiet hours end."""
        if urgent or self.start == self.end:
            return at
        local = at.astimezone(self.timezone)
        today_start = datetime.combine(local.date(), self.start, tzinfo=self.timezone)
        today_end = datetime.combine(local.date(), self.end, tzinfo=self.timezone)
        if self.start < self.end:  # e.g. 12:00-13:30
            return today_end if today_start <= local < today_end else at
        # Across midnight, e.g. 22:00-08:00.
        if local >= today_start:
            return today_end + timedelta(days=1)
        if local < today_end:
            return today_end
        return at


#: A message that could not be delivered is tried again after 1, 2, 4 … minutes, at most 6 hours
#: apart, and given up after this many attempts (it stays in the outbox with its last error).
MAX_ATTEMPTS = 10


def retry_delay(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


# --- notifications to staff (the bell, the notifications page, copies by e-mail or SMS) ----------


class NotificationKind(StrEnum):
    """What a notification to a member of staff is about: a stable code (stored, in the API, in
    preferences) and a label (msgid)."""

    DISPATCHED = "dispatched"  # a work order (a hop) sent to my team or organisation, or put in my team's queue
    ASSIGNED = "assigned"  # I handle it now
    HOP_ANSWERED = "hop_answered"  # the other party accepted, rejected or returned my hop
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    SLA_ESCALATED = "sla_escalated"  # an escalation level before the deadline named me (at it: a breach)
    MENTION = "mention"  # @username in an internal note
    CUSTOMER_REPLIED = "customer_replied"  # the customer wrote again about a work order I handle


KIND_LABELS: dict[NotificationKind, str] = {
    NotificationKind.DISPATCHED: N_("Dispatched to my team"),
    NotificationKind.ASSIGNED: N_("Assigned to me"),
    NotificationKind.HOP_ANSWERED: N_("Dispatch answered"),
    NotificationKind.SLA_WARNING: N_("Time limit warning"),
    NotificationKind.SLA_BREACHED: N_("Time limit breached"),
    NotificationKind.SLA_ESCALATED: N_("Escalation"),
    NotificationKind.MENTION: N_("Mentioned in a note"),
    NotificationKind.CUSTOMER_REPLIED: N_("Customer replied"),
}

#: Templates written before the kinds had their names (rows of earlier versions still read right).
LEGACY_KINDS = {"hop_received": NotificationKind.DISPATCHED}


def kind_of(template: str, payload: dict[str, Any]) -> NotificationKind | None:
    """The kind of a stored notification (None: a template this version does not know)."""
    if template in LEGACY_KINDS:
        return LEGACY_KINDS[template]
    try:
        kind = NotificationKind(template)
    except ValueError:
        return None
    if kind is NotificationKind.SLA_WARNING and payload.get("level"):  # written before "sla_escalated"
        return NotificationKind.SLA_ESCALATED
    return kind


class CopyChannel(StrEnum):
    """How a notification may also reach someone away from the screen (an on-call supervisor)."""

    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Notification:
    id: int
    user_id: int
    kind: NotificationKind | None
    template: str
    created_at: datetime
    payload: dict[str, Any]
    work_order_id: int | None = None
    read_at: datetime | None = None

    @property
    def number(self) -> str | None:
        value = self.payload.get("number")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class NotificationFilter:
    unread: bool = False
    kinds: tuple[NotificationKind, ...] = ()
    before_id: int | None = None  # the cursor: notifications older than this one


#: @username in a note: kefu's usernames are lower-case letters, digits, '.', '_' and '-' (the
#: trailing '.' of a sentence is not part of a name).
_MENTION_RE = re.compile(r"(?<![\w@.])@([a-z][a-z0-9_.-]{1,63})", re.ASCII)


def mentioned_usernames(text: str) -> list[str]:
    """The usernames a text mentions (@lina), each once, in order."""
    return list(dict.fromkeys(m.rstrip(".-") for m in _MENTION_RE.findall(text.lower())))
