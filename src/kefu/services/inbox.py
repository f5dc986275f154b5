"""Messages to staff about a work order (dispatches received and answered, time-limit warnings,
breaches and escalations): written to the outbox with the change, delivered to the recipients'
in-app inboxes after commit. Not urgent ones wait out the quiet hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kefu.domain.notifications import Message
from kefu.domain.workorders import WorkOrder
from kefu.services.context import Context


def to_staff(
    ctx: Context,
    wo: WorkOrder,
    recipients: Iterable[int],
    template: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    urgent: bool,
) -> list[Message]:
    """One inbox message per recipient (each named once), about `wo`."""
    release = ctx.quiet_hours.release(now, urgent=urgent) if ctx.quiet_hours else now
    return [
        Message(
            channel="inbox",
            template=template,
            created_at=now,
            deliver_after=release,
            payload={"number": wo.number, **payload},
            recipient_user_id=user_id,
            work_order_id=wo.id,
            urgent=urgent,
        )
        for user_id in dict.fromkeys(recipients)
    ]
