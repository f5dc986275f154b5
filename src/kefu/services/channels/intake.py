"""The intake (R1, R4): every channel hands what a customer sent to `receive`.

`receive` identifies the customer (phone, e-mail, WeChat openid or account number; an unknown one is
registered), stores the contact once per provider message (a provider's retry stores nothing new),
threads it into the work order it belongs to — a work-order number of this customer in the subject
or text, else an open work order of the same customer and category from the last 72 hours — or
opens a new one, and answers the customer with the number and the promised time. One transaction;
the answer leaves through the outbox after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kefu.domain.contacts import (
    UNCLASSIFIED,
    Attachment,
    Contact,
    Direction,
    clean_body,
    numbers_in,
    our_message,
    thread_by_matter,
)
from kefu.domain.customers import Customer
from kefu.domain.errors import ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.workorders import Channel, Status, WorkOrder, WorkOrderType
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.access.system import system_account
from kefu.services.changes import move, store
from kefu.services.channels import notify
from kefu.services.context import Context
from kefu.services.customers import NewCustomer
from kefu.services.ports import UnitOfWork
from kefu.services.workorders.commands import NewWorkOrder, active_category, open_work_order, with_new_customer

UNKNOWN_NAME = "新客户"  # a customer first known by a message; an agent completes the record


@dataclass(frozen=True)
class Inbound:
    channel: Channel
    body: str
    provider_message_id: str | None = None
    at: datetime | None = None
    phone: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    account_number: str | None = None
    name: str | None = None
    subject: str | None = None
    # What a structured channel (the portal's registration template, R2) knows already.
    type: WorkOrderType = WorkOrderType.INQUIRY
    category: str | None = None
    title: str | None = None
    fault_time: datetime | None = None
    fault_place: str | None = None
    device: str | None = None
    attachments: tuple[Attachment, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    #: False for what must never start a conversation: auto-replies, bounces (no mail loops).
    may_open: bool = True
    #: False where the channel answers itself (WeChat's passive reply) or must not be answered.
    answer: bool = True
    #: False when the sender only claims the phone number or address (an anonymous portal form):
    #: such a message never joins an existing work order and adds no address to the customer's
    #: record. The provider vouches for the others: the SMS carrier for the number, WeChat for the
    #: openid, the portal's verified code for a follow-up.
    identity_verified: bool = True
    locale: str = "zh_CN"


@dataclass(frozen=True)
class IntakeResult:
    contact: Contact
    customer_id: int | None
    work_order: WorkOrder | None
    opened: bool  # a new work order was opened for it
    duplicate: bool  # the provider delivered this message before; nothing new was stored
    reply: str | None = None  # the answer's text, for channels that answer in the response (WeChat)


def receive(ctx: Context, inbound: Inbound) -> IntakeResult:
    body = clean_body(inbound.body)
    if not body and not inbound.attachments:
        raise ValidationFailed("The message is empty.", field="text")
    now = ctx.clock.now()
    at = inbound.at or now
    with ctx.uow(write=True) as uow:
        system = system_account(ctx, uow)
        if inbound.provider_message_id and (
            seen := uow.channels.contact_by_provider_id(inbound.channel, inbound.provider_message_id)
        ):
            return _duplicate(ctx, uow, seen, inbound)
        customer_id = _identify(ctx, uow, inbound, now, system) if _has_identity(inbound) else None
        contact = Contact(
            id=None,
            channel=inbound.channel,
            direction=Direction.INBOUND,
            at=at,
            customer_id=customer_id,
            body=body,
            address=_address(inbound),
            subject=inbound.subject,
            provider_message_id=inbound.provider_message_id,
            attachments=list(inbound.attachments),
            data=dict(inbound.data),
        )
        work_order, opened = None, False
        if customer_id is not None:
            work_order = _thread(ctx, uow, inbound, customer_id, body, at) if inbound.identity_verified else None
            if work_order is None and inbound.may_open:
                work_order = _open(ctx, uow, system, inbound, customer_id, body, now)
                opened = True
        contact.work_order_id = work_order.id if work_order else None
        if not uow.channels.add_contact(contact):
            # The same message, delivered twice at the same moment: the other delivery stored it.
            uow.rollback()
            seen = uow.channels.contact_by_provider_id(inbound.channel, inbound.provider_message_id or "")
            assert seen is not None
            return _duplicate(ctx, uow, seen, inbound)
        reply = None
        if work_order is not None and not opened:
            _note_contact(ctx, uow, work_order, contact, system, now, resume=inbound.may_open)
        if work_order is not None and inbound.may_open:
            key = "acknowledged" if opened else "received"
            reply = notify.text_for(ctx, uow, key, inbound.channel, inbound.locale, work_order)
            if inbound.answer:
                notify.to_customer(
                    ctx, uow, work_order, key, channel=inbound.channel, address=_address(inbound), locale=inbound.locale
                )
        uow.commit()
    return IntakeResult(
        contact=contact, customer_id=customer_id, work_order=work_order, opened=opened, duplicate=False, reply=reply
    )


def _duplicate(ctx: Context, uow: UnitOfWork, seen: Contact, inbound: Inbound) -> IntakeResult:
    """What the first delivery got, again (a channel answering in its response answers the same)."""
    wo = uow.work_orders.get_by_id(seen.work_order_id) if seen.work_order_id else None
    reply = None
    if wo is not None and wo.id is not None and inbound.may_open:
        first = uow.channels.contacts_of_work_order(wo.id)
        key = "acknowledged" if first and first[0].id == seen.id else "received"
        reply = notify.text_for(ctx, uow, key, inbound.channel, inbound.locale, wo)
    return IntakeResult(
        contact=seen, customer_id=seen.customer_id, work_order=wo, opened=False, duplicate=True, reply=reply
    )


def _has_identity(i: Inbound) -> bool:
    return bool(i.phone or i.email or i.wechat_openid or i.account_number)


def _address(i: Inbound) -> str | None:
    return {Channel.EMAIL: i.email, Channel.WECHAT: i.wechat_openid}.get(i.channel) or i.phone or i.email


def _identify(ctx: Context, uow: UnitOfWork, i: Inbound, now: datetime, system: User) -> int:
    found = uow.channels.find_customer_id(
        phone=i.phone, email=i.email, wechat_openid=i.wechat_openid, account_number=i.account_number
    )
    if found is not None:
        if i.identity_verified:
            uow.channels.set_customer_keys(found, email=i.email, wechat_openid=i.wechat_openid)
        return found
    customer = Customer.register(
        name=(i.name or "").strip()[:100] or UNKNOWN_NAME,
        phone=i.phone,
        at=now,
        email=i.email,
        wechat_openid=i.wechat_openid,
        account_number=i.account_number,
        # Like the work orders kefu opens for them, they belong to the organisation of the system
        # account, the top one (its reception classifies them): its subtree sees them.
        organisation_id=system.organisation_id,
    )
    stored = uow.customers.add(customer)
    assert stored.id is not None
    return stored.id


def _thread(ctx: Context, uow: UnitOfWork, i: Inbound, customer_id: int, body: str, at: datetime) -> WorkOrder | None:
    """The customer's open work order this message belongs to, if any: the one an e-mail answers
    (In-Reply-To / References naming a mail of ours or of theirs on it), else a number in the
    subject or text, else the same matter."""
    for message_id in i.data.get("thread") or ():
        sent = our_message(str(message_id))
        if sent is not None:
            found_id = uow.replies.work_order_of_message(sent)
        else:
            earlier = uow.channels.contact_by_provider_id(i.channel, str(message_id))
            found_id = earlier.work_order_id if earlier else None
        wo = uow.work_orders.get_by_id(found_id) if found_id else None
        if wo is not None and wo.customer_id == customer_id and wo.is_open:
            return wo
    for number in numbers_in(i.subject, body):
        wo = uow.work_orders.get_by_number(number)
        # Only the customer's own, still open: a number typed by someone else attaches nothing.
        if wo is not None and wo.customer_id == customer_id and wo.is_open:
            return wo
    case = thread_by_matter(uow.channels.open_cases(customer_id), i.category or UNCLASSIFIED, at)
    return uow.work_orders.get_by_id(case.id) if case else None


def _open(
    ctx: Context, uow: UnitOfWork, system: User, i: Inbound, customer_id: int, body: str, now: datetime
) -> WorkOrder:
    category = active_category(ctx, uow, i.category or UNCLASSIFIED).code
    first_line = body.splitlines()[0] if body else ""
    title = (i.title or i.subject or first_line).strip()[:200] or "—"
    return open_work_order(
        ctx,
        uow,
        system,
        NewWorkOrder(
            customer_id=customer_id,
            type=i.type,
            category=category,
            channel=i.channel,
            title=title,
            description=body or title,
            fault_time=i.fault_time,
            fault_place=i.fault_place,
            device=i.device,
        ),
        now,
    )


def _note_contact(
    ctx: Context, uow: UnitOfWork, wo: WorkOrder, contact: Contact, system: User, now: datetime, *, resume: bool
) -> None:
    """The customer wrote again: on the timeline; a work order waiting for the customer resumes
    (not for an auto-reply or a bounce, which are only recorded)."""
    wo.record(
        WorkOrderEvent(
            kind=EventKind.CONTACT_RECEIVED,
            actor_id=system.id or 0,
            at=now,
            note=contact.body,
            visibility="customer",
            data={"contact_id": contact.id, "channel": contact.channel.value},
        )
    )
    if resume and wo.status is Status.PENDING:
        move(ctx, wo, Status.IN_PROGRESS, actor_id=system.id or 0, at=now, note=None)
    store(ctx, uow, wo)


def register_walk_in(
    ctx: Context, actor: User, new: NewWorkOrder, *, store: str, new_customer: NewCustomer | None = None
) -> WorkOrder:
    """A customer at a store (营业厅), registered by the agent there (R1): the work order and the
    visit as a contact on the customer's history, in one transaction."""
    require(actor, Permission.WORKORDER_CREATE)
    place = store.strip()
    if not place or len(place) > 100:
        raise ValidationFailed("Name the store where the customer came in.", field="store")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        new = with_new_customer(ctx, uow, actor, replace(new, channel=Channel.STORE), new_customer)
        wo = open_work_order(ctx, uow, actor, new, now)
        uow.channels.add_contact(
            Contact(
                id=None,
                channel=Channel.STORE,
                direction=Direction.INBOUND,
                at=now,
                customer_id=wo.customer_id,
                body=wo.description,
                subject=wo.title,
                work_order_id=wo.id,
                data={"store": place, "agent_id": actor.id},
            )
        )
        notify.to_customer(ctx, uow, wo, "acknowledged")  # R4: number and promised time, by SMS
        uow.commit()
    return scope.as_seen_by(ctx, actor, wo)
