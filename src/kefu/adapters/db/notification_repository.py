"""Staff notifications: each user's inbox (the bell, the notifications page, the API), the kinds a
user also wants by e-mail or SMS, and the addresses those copies go to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from kefu.adapters.db.tables import notification_preferences, notifications, users
from kefu.domain.notifications import (
    CopyChannel,
    Message,
    Notification,
    NotificationFilter,
    NotificationKind,
    kind_of,
)


def _notification(row: Any) -> Notification:
    payload = dict(row.payload)
    return Notification(
        id=row.id,
        user_id=row.user_id,
        kind=kind_of(row.template, payload),
        template=row.template,
        created_at=row.created_at,
        payload=payload,
        work_order_id=row.work_order_id,
        read_at=row.read_at,
    )


def _templates(kinds: Iterable[NotificationKind]) -> list[str]:
    """The stored templates of these kinds (an escalation was once stored as a warning with a level)."""
    wanted = set(kinds)
    names = {k.value for k in wanted}
    if NotificationKind.DISPATCHED in wanted:
        names.add("hop_received")
    if NotificationKind.SLA_ESCALATED in wanted:
        names.add("sla_warning")
    return sorted(names)


class SqlNotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, messages: list[Message], at: datetime) -> None:
        """Deliver in-app messages (from the outbox) to their recipients' inboxes."""
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

    def of_user(self, user_id: int, flt: NotificationFilter, limit: int) -> list[Notification]:
        """Newest first."""
        c = notifications.c
        query = select(notifications).where(c.user_id == user_id)
        if flt.unread:
            query = query.where(c.read_at.is_(None))
        if flt.kinds:
            query = query.where(c.template.in_(_templates(flt.kinds)))
        if flt.before_id is not None:
            query = query.where(c.id < flt.before_id)
        found = [_notification(r) for r in self.conn.execute(query.order_by(c.id.desc()).limit(limit))]
        if flt.kinds:  # a warning or breach is an escalation or not by its level
            found = [n for n in found if n.kind in flt.kinds]
        return found

    def unread_count(self, user_id: int) -> int:
        c = notifications.c
        query = select(func.count()).select_from(notifications).where(c.user_id == user_id, c.read_at.is_(None))
        return int(self.conn.execute(query).scalar_one())

    def mark_read(self, user_id: int, notification_id: int, at: datetime) -> Notification | None:
        """Mark one of the user's notifications read (None: the user has no such notification)."""
        c = notifications.c
        self.conn.execute(
            update(notifications)
            .where(c.id == notification_id, c.user_id == user_id, c.read_at.is_(None))
            .values(read_at=at)
        )
        row = self.conn.execute(select(notifications).where(c.id == notification_id, c.user_id == user_id)).first()
        return _notification(row) if row else None

    def mark_all_read(self, user_id: int, at: datetime) -> int:
        c = notifications.c
        result = self.conn.execute(
            update(notifications).where(c.user_id == user_id, c.read_at.is_(None)).values(read_at=at)
        )
        return int(result.rowcount or 0)

    def preferences(self, user_ids: list[int]) -> dict[int, set[tuple[NotificationKind, CopyChannel]]]:
        """Per user: the (kind, channel) pairs chosen (users without a choice are absent)."""
        if not user_ids:
            return {}
        c = notification_preferences.c
        chosen: dict[int, set[tuple[NotificationKind, CopyChannel]]] = {}
        for row in self.conn.execute(select(notification_preferences).where(c.user_id.in_(sorted(set(user_ids))))):
            try:
                pair = (NotificationKind(row.kind), CopyChannel(row.channel))
            except ValueError:  # a kind or channel this version no longer knows
                continue
            chosen.setdefault(row.user_id, set()).add(pair)
        return chosen

    def set_preferences(self, user_id: int, chosen: set[tuple[NotificationKind, CopyChannel]]) -> None:
        c = notification_preferences.c
        self.conn.execute(delete(notification_preferences).where(c.user_id == user_id))
        if chosen:
            self.conn.execute(
                insert(notification_preferences),
                [{"user_id": user_id, "kind": k.value, "channel": ch.value} for k, ch in sorted(chosen)],
            )

    def set_addresses(self, user_id: int, *, email: str | None, phone: str | None) -> None:
        """Where the user's copies go (the user's own e-mail address and mobile number)."""
        self.conn.execute(update(users).where(users.c.id == user_id).values(email=email, phone=phone))
