"""Storage of contacts, calls, message templates and the portal's verification codes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.search_repository import SqlSearchRepository
from kefu.adapters.db.tables import (
    attachment_files,
    calls,
    contacts,
    customers,
    message_templates,
    verification_codes,
    work_orders,
)
from kefu.adapters.db.types import UTCDateTime
from kefu.adapters.db.workorder_queries import filtered
from kefu.domain.contacts import Attachment, CallRecord, Contact, Direction, OpenCase
from kefu.domain.workorders import OPEN_STATUS_VALUES, Channel
from kefu.services.ports import CodeRecord, ContactAttachment, MessageText, StoredTemplate, WorkOrderFilter

_CONTACT_CLAIM = {
    # A provider's retry of the same message hits the unique (channel, provider_message_id) index
    # and inserts nothing: the caller learns it is a duplicate from the missing id.
    name: dialect.insert(contacts).on_conflict_do_nothing().returning(contacts.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _contact(row: Any) -> Contact:
    return Contact(
        id=row.id,
        channel=Channel(row.channel),
        direction=Direction(row.direction),
        at=row.at,
        customer_id=row.customer_id,
        body=row.body,
        address=row.address,
        subject=row.subject,
        provider_message_id=row.provider_message_id,
        work_order_id=row.work_order_id,
        attachments=[Attachment(**a) for a in row.attachments],
        data=dict(row.data),
    )


def _files(contact: Contact) -> list[dict[str, Any]]:
    return [
        {
            "contact_id": contact.id,
            "position": i,
            "filename": a.filename,
            "content_type": a.content_type,
            "size": len(a.content),
            "sha256": hashlib.sha256(a.content).hexdigest(),
            "content": a.content,
        }
        for i, a in enumerate(contact.attachments)
        if a.content is not None
    ]


def _contact_values(c: Contact) -> dict[str, Any]:
    return {
        "customer_id": c.customer_id,
        "channel": c.channel.value,
        "direction": c.direction.value,
        "at": c.at,
        "address": c.address,
        "subject": c.subject,
        "body": c.body,
        "provider_message_id": c.provider_message_id,
        "work_order_id": c.work_order_id,
        "attachments": [a.describe() for a in c.attachments],
        "data": c.data,
    }


class SqlChannelRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Inbound messages tied to a work order are searchable from the same transaction.
        self.search = SqlSearchRepository(conn)

    # contacts
    def add_contact(self, contact: Contact) -> bool:
        """Store a contact; False when the provider already delivered this message (nothing stored)."""
        row = self.conn.execute(_CONTACT_CLAIM[self.conn.dialect.name], _contact_values(contact)).first()
        if row is None:
            return False
        contact.id = row.id
        if files := _files(contact):
            self.conn.execute(insert(attachment_files), files)
        if contact.work_order_id is not None:
            self.search.index_contact(row.id)
        return True

    def attachment(self, contact_id: int, position: int) -> ContactAttachment | None:
        """A contact's file, with the contact (whose work order and customer decide who may see it)."""
        f = attachment_files.c
        row = self.conn.execute(
            select(attachment_files).where(f.contact_id == contact_id, f.position == position)
        ).first()
        contact = self.conn.execute(select(contacts).where(contacts.c.id == contact_id)).first()
        if row is None or contact is None:
            return None
        return ContactAttachment(
            _contact(contact), Attachment(row.filename, row.content_type, row.size, bytes(row.content))
        )

    def contact_by_provider_id(self, channel: Channel, provider_message_id: str) -> Contact | None:
        row = self.conn.execute(
            select(contacts).where(
                contacts.c.channel == channel.value, contacts.c.provider_message_id == provider_message_id
            )
        ).first()
        return _contact(row) if row else None

    def update_contact(self, contact: Contact) -> None:
        self.conn.execute(update(contacts).where(contacts.c.id == contact.id).values(_contact_values(contact)))
        if contact.id is not None and contact.work_order_id is not None:
            self.search.index_contact(contact.id)

    def link_contact(self, contact_id: int, work_order_id: int, customer_id: int) -> None:
        self.conn.execute(
            update(contacts)
            .where(contacts.c.id == contact_id)
            .values(work_order_id=work_order_id, customer_id=customer_id)
        )
        self.search.index_contact(contact_id)

    def contacts_of(self, customer_id: int, limit: int) -> list[Contact]:
        rows = self.conn.execute(
            select(contacts).where(contacts.c.customer_id == customer_id).order_by(contacts.c.id.desc()).limit(limit)
        )
        return [_contact(r) for r in rows]

    def contacts_of_work_order(self, work_order_id: int) -> list[Contact]:
        rows = self.conn.execute(
            select(contacts).where(contacts.c.work_order_id == work_order_id).order_by(contacts.c.id)
        )
        return [_contact(r) for r in rows]

    def open_cases(self, customer_id: int) -> list[OpenCase]:
        c = work_orders.c
        open_of_customer = WorkOrderFilter(statuses=OPEN_STATUS_VALUES, customer_id=customer_id)
        rows = self.conn.execute(filtered(select(c.id, c.number, c.category, c.created_at), open_of_customer).limit(50))
        return [OpenCase(r.id, r.number, r.category, r.created_at) for r in rows]

    def find_customer_id(
        self, *, phone: str | None, email: str | None, wechat_openid: str | None, account_number: str | None
    ) -> int | None:
        """The customer these identifiers belong to (the oldest record, if several match)."""
        c = customers.c
        keys = [
            col == value
            for col, value in (
                (c.phone, phone),
                (c.email, email),
                (c.wechat_openid, wechat_openid),
                (c.account_number, account_number),
            )
            if value
        ]
        if not keys:
            return None
        # A record merged into another one stands for it: its identifiers find the survivor.
        found = select(func.coalesce(c.merged_into_id, c.id)).where(or_(*keys)).order_by(c.id).limit(1)
        return self.conn.execute(found).scalar_one_or_none()

    def set_customer_keys(self, customer_id: int, *, email: str | None, wechat_openid: str | None) -> None:
        """Remember a new e-mail address or WeChat openid of a known customer (only where none is stored)."""
        c = customers.c
        if email:
            self.conn.execute(update(customers).where(c.id == customer_id, c.email.is_(None)).values(email=email))
        if wechat_openid:
            self.conn.execute(
                update(customers)
                .where(c.id == customer_id, c.wechat_openid.is_(None))
                .values(wechat_openid=wechat_openid)
            )

    # calls
    def call(self, call_id: str, *, lock: bool = False) -> CallRecord | None:
        query = select(calls).where(calls.c.call_id == call_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return CallRecord(**{k: getattr(row, k) for k in CallRecord.__dataclass_fields__}) if row else None

    def save_call(self, call: CallRecord) -> CallRecord:
        values = {k: getattr(call, k) for k in CallRecord.__dataclass_fields__ if k != "id"}
        if call.id is None:
            stmt = _CALL_CLAIM[self.conn.dialect.name]
            row = self.conn.execute(stmt, values).first()
            if row is None:  # the same call arrived at the same moment from another worker
                existing = self.call(call.call_id, lock=True)
                assert existing is not None
                return existing
            call.id = row.id
            return call
        self.conn.execute(update(calls).where(calls.c.id == call.id).values(values))
        return call

    def recent_calls(self, caller: str, limit: int) -> list[CallRecord]:
        rows = self.conn.execute(select(calls).where(calls.c.caller == caller).order_by(calls.c.id.desc()).limit(limit))
        return [CallRecord(**{k: getattr(r, k) for k in CallRecord.__dataclass_fields__}) for r in rows]

    # templates
    def template(self, key: str, channel: str, locale: str) -> MessageText | None:
        t = message_templates.c
        row = self.conn.execute(
            select(t.subject, t.body).where(t.key == key, t.channel == channel, t.locale == locale)
        ).first()
        return MessageText(row.subject, row.body) if row else None

    def templates(self) -> list[StoredTemplate]:
        t = message_templates.c
        rows = self.conn.execute(select(message_templates).order_by(t.key, t.channel, t.locale))
        return [StoredTemplate(r.key, r.channel, r.locale, r.subject, r.body) for r in rows]

    def save_template(
        self, key: str, channel: str, locale: str, subject: str | None, body: str, *, actor_id: int, at: datetime
    ) -> None:
        t = message_templates.c
        self.conn.execute(delete(message_templates).where(t.key == key, t.channel == channel, t.locale == locale))
        self.conn.execute(
            insert(message_templates).values(
                key=key, channel=channel, locale=locale, subject=subject, body=body, updated_at=at, updated_by=actor_id
            )
        )

    # verification codes
    def add_code(self, code: CodeRecord) -> None:
        self.conn.execute(
            insert(verification_codes).values(
                work_order_id=code.work_order_id,
                phone=code.phone,
                code_hash=code.code_hash,
                created_at=code.created_at,
                expires_at=code.expires_at,
            )
        )

    def latest_code(self, work_order_id: int, now: datetime) -> CodeRecord | None:
        v = verification_codes.c
        row = self.conn.execute(
            select(verification_codes)
            .where(
                v.work_order_id == work_order_id,
                v.used_at.is_(None),
                v.expires_at > bindparam("now", type_=UTCDateTime),
            )
            .order_by(v.id.desc())
            .limit(1),
            {"now": now},
        ).first()
        return (
            CodeRecord(
                id=row.id,
                work_order_id=row.work_order_id,
                phone=row.phone,
                code_hash=row.code_hash,
                created_at=row.created_at,
                expires_at=row.expires_at,
                attempts=row.attempts,
            )
            if row
            else None
        )

    def codes_since(self, work_order_id: int, since: datetime) -> int:
        v = verification_codes.c
        return len(
            self.conn.execute(
                select(v.id).where(
                    v.work_order_id == work_order_id, v.created_at >= bindparam("since", type_=UTCDateTime)
                ),
                {"since": since},
            ).all()
        )

    def count_attempt(self, code_id: int, *, used_at: datetime | None) -> None:
        v = verification_codes.c
        self.conn.execute(
            update(verification_codes).where(v.id == code_id).values(attempts=v.attempts + 1, used_at=used_at)
        )


_CALL_CLAIM = {
    name: dialect.insert(calls).on_conflict_do_nothing().returning(calls.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
