"""Replies to the customer, with their delivery state read from the outbox; canned replies (message
templates of channel "reply" with the category they are offered for); the work order an e-mail of
ours belongs to (threading answers by In-Reply-To / References)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from kefu.adapters.db.tables import message_templates, outbox, replies
from kefu.domain.notifications import MAX_ATTEMPTS
from kefu.domain.replies import DeliveryState, Reply, ReplyChannel, ReplyStatus
from kefu.services.ports import CannedText

#: The message-template channel canned replies are stored under.
CANNED = "reply"


def _reply(row: Any) -> Reply:
    return Reply(
        id=row.id,
        work_order_id=row.work_order_id,
        customer_id=row.customer_id,
        channel=ReplyChannel(row.channel),
        recipient=row.recipient,
        body=row.body,
        author_id=row.author_id,
        created_at=row.created_at,
        subject=row.subject,
        canned=row.canned,
        locale=row.locale,
        outbox_id=row.outbox_id,
        message_id=row.message_id,
        in_reply_to=row.in_reply_to,
    )


def _status(row: Any) -> ReplyStatus:
    if row.sent_at is not None:
        state = DeliveryState.SENT
    elif row.attempts is not None and row.attempts >= MAX_ATTEMPTS:
        state = DeliveryState.FAILED
    else:
        state = DeliveryState.QUEUED
    return ReplyStatus(
        reply=_reply(row), state=state, attempts=row.attempts or 0, error=row.last_error, sent_at=row.sent_at
    )


class SqlReplyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, reply: Reply) -> Reply:
        values = {
            "work_order_id": reply.work_order_id,
            "customer_id": reply.customer_id,
            "channel": reply.channel.value,
            "recipient": reply.recipient,
            "subject": reply.subject,
            "body": reply.body,
            "canned": reply.canned,
            "locale": reply.locale,
            "author_id": reply.author_id,
            "created_at": reply.created_at,
            "outbox_id": reply.outbox_id,
            "message_id": reply.message_id,
            "in_reply_to": reply.in_reply_to,
        }
        new_id = self.conn.execute(insert(replies).values(values).returning(replies.c.id)).scalar_one()
        return Reply(**{**reply.__dict__, "id": new_id})

    def set_outbox(self, reply_id: int, outbox_id: int) -> None:
        self.conn.execute(update(replies).where(replies.c.id == reply_id).values(outbox_id=outbox_id))

    def set_message_id(self, reply_id: int, message_id: str) -> None:
        self.conn.execute(update(replies).where(replies.c.id == reply_id).values(message_id=message_id[:250]))

    def _with_state(self) -> Any:
        o = outbox.c
        return select(replies, o.sent_at, o.attempts, o.last_error).select_from(
            replies.outerjoin(outbox, outbox.c.id == replies.c.outbox_id)
        )

    def of_work_order(self, work_order_id: int) -> list[ReplyStatus]:
        query = self._with_state().where(replies.c.work_order_id == work_order_id).order_by(replies.c.id)
        return [_status(r) for r in self.conn.execute(query)]

    def of_customer(self, customer_id: int, limit: int) -> list[ReplyStatus]:
        query = (
            self._with_state().where(replies.c.customer_id == customer_id).order_by(replies.c.id.desc()).limit(limit)
        )
        return [_status(r) for r in self.conn.execute(query)]

    def work_order_of_message(self, outbox_id: int) -> int | None:
        """The work order a message of ours (an outbox row: a reply, an acknowledgement) was about."""
        return self.conn.execute(select(outbox.c.work_order_id).where(outbox.c.id == outbox_id)).scalar()

    # canned replies
    def canned(self) -> list[CannedText]:
        t = message_templates.c
        rows = self.conn.execute(select(message_templates).where(t.channel == CANNED).order_by(t.key, t.locale))
        return [CannedText(r.key, r.locale, r.category, r.subject, r.body) for r in rows]

    def save_canned(self, text: CannedText, *, actor_id: int, at: datetime) -> None:
        t = message_templates.c
        self.conn.execute(
            delete(message_templates).where(t.key == text.key, t.channel == CANNED, t.locale == text.locale)
        )
        self.conn.execute(
            insert(message_templates).values(
                key=text.key,
                channel=CANNED,
                locale=text.locale,
                category=text.category,
                subject=text.subject,
                body=text.body,
                updated_at=at,
                updated_by=actor_id,
            )
        )
