"""Messages to people (agents, supervisors, customers) that are sent after the change is committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


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
