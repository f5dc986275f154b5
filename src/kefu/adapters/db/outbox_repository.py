"""The outbox: messages written in the same transaction as the change, delivered after commit. The
text of a message that carries a secret (a one-time code) is kept encrypted and decrypted only for
its delivery; the payload's `body` has the secret masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from kefu.adapters.data_protection import DataKeys
from kefu.adapters.db.tables import outbox
from kefu.adapters.db.types import UTCDateTime
from kefu.domain.notifications import MAX_ATTEMPTS, Message

#: The field name authenticated with the ciphertext of a secret message text.
SECRET_BODY = "outbox.secret_body"  # noqa: S105 - a field name, not a secret


def _message(row: Any, keys: DataKeys) -> Message:
    payload = dict(row.payload)
    sealed = payload.pop("sealed_body", None)
    return Message(
        id=row.id,
        channel=row.channel,
        template=row.template,
        created_at=row.created_at,
        deliver_after=row.deliver_after,
        payload=payload,
        secret_body=keys.decrypt(sealed, SECRET_BODY) if sealed else None,
        recipient_user_id=row.recipient_user_id,
        recipient=row.recipient,
        work_order_id=row.work_order_id,
        urgent=row.urgent,
        attempts=row.attempts,
    )


class SqlOutboxRepository:
    def __init__(self, conn: Connection, keys: DataKeys) -> None:
        self.conn = conn
        self.keys = keys

    def _payload(self, m: Message) -> dict[str, Any]:
        if m.secret_body is None:
            return m.payload
        return {**m.payload, "sealed_body": self.keys.encrypt(m.secret_body, SECRET_BODY)}

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
                    "payload": self._payload(m),
                    "urgent": m.urgent,
                }
                for m in messages
            ],
        )

    def add_one(self, m: Message) -> int:
        return int(
            self.conn.execute(
                insert(outbox)
                .values(
                    created_at=m.created_at,
                    deliver_after=m.deliver_after,
                    channel=m.channel,
                    recipient_user_id=m.recipient_user_id,
                    recipient=m.recipient,
                    work_order_id=m.work_order_id,
                    template=m.template,
                    payload=self._payload(m),
                    urgent=m.urgent,
                )
                .returning(outbox.c.id)
            ).scalar_one()
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
        return [_message(r, self.keys) for r in self.conn.execute(stmt, {"now": now})]

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
