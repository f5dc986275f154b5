"""The outbox: messages written in the same transaction as the change, delivered after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from kefu.adapters.db.tables import notifications, outbox
from kefu.adapters.db.types import UTCDateTime
from kefu.domain.notifications import MAX_ATTEMPTS, Message


def _message(row: Any) -> Message:
    return Message(
        id=row.id,
        channel=row.channel,
        template=row.template,
        created_at=row.created_at,
        deliver_after=row.deliver_after,
        payload=dict(row.payload),
        recipient_user_id=row.recipient_user_id,
        recipient=row.recipient,
        work_order_id=row.work_order_id,
        urgent=row.urgent,
        attempts=row.attempts,
    )


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, messages: list[Message]) -> None:
        if not messages:
            return
        self.conn.execute(
            insert(outbox),
            [
                {
                    "created_at": m.created_at,
                    "deliver_after": m.deliver_after,
                    "channel": m.channel,
                    "recipient_user_id": m.recipient_user_id,
                    "recipient": m.recipient,
                    "work_order_id": m.work_order_id,
                    "template": m.template,
                    "payload": m.payload,
                    "urgent": m.urgent,
                }
                for m in messages
            ],
        )

    def claim_due(self, now: datetime, limit: int) -> list[Message]:
        stmt = (
            select(outbox)
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.deliver_after <= bindparam("now", type_=UTCDateTime),
                outbox.c.attempts < MAX_ATTEMPTS,
            )
            .order_by(outbox.c.deliver_after, outbox.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [_message(r) for r in self.conn.execute(stmt, {"now": now})]

    def mark_sent(self, ids: list[int], at: datetime) -> None:
        if ids:
            self.conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(sent_at=at, attempts=outbox.c.attempts + 1)
            )

    def mark_failed(self, message_id: int, *, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt; without `retry_at` the message is given up (it stays, with its error)."""
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error}
        if retry_at is None:
            values["attempts"] = MAX_ATTEMPTS
        else:
            values["deliver_after"] = retry_at
        self.conn.execute(update(outbox).where(outbox.c.id == message_id).values(values))

    def add_notifications(self, messages: list[Message], at: datetime) -> None:
        rows = [
            {
                "user_id": m.recipient_user_id,
                "created_at": at,
                "work_order_id": m.work_order_id,
                "template": m.template,
                "payload": m.payload,
            }
            for m in messages
            if m.recipient_user_id
        ]
        if rows:
            self.conn.execute(insert(notifications), rows)
