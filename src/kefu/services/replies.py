"""Replies to the customer from the work order (issue #12).

An agent chooses the channel (default: the one the customer used for the work order) and writes the
text or takes a canned reply (admin-managed message templates per category and language, filled in
with the work order's values). The reply is queued in the outbox with an event on the timeline, in
the change's transaction; the worker hands it to the channel after commit (`delivered` /
`given_up`, called by `kefu.services.sla.timers.deliver_outbox`) and records that on the timeline
too. Only a delivered reply meets the reply-to-customer clock (`kefu.domain.sla.happening_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from kefu.domain.contacts import Contact, Direction, render
from kefu.domain.customers import Customer
from kefu.domain.errors import N_, NotFound, PermissionDenied, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.notifications import Message
from kefu.domain.org import Permission, User
from kefu.domain.replies import (
    CONTACT_CHANNEL,
    DeliveryState,
    Reply,
    ReplyChannel,
    ReplyStatus,
    clean_reply,
    default_channel,
    masked_address,
)
from kefu.domain.visits import VisitStatus
from kefu.domain.workorders import Channel, WorkOrder
from kefu.services import canned_replies
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.access.system import system_id
from kefu.services.canned_replies import CannedReply
from kefu.services.changes import changing, store_events
from kefu.services.channels import notify
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

TEMPLATE = "customer:reply"
#: How many earlier e-mails of the conversation a reply names in its References header.
MAX_REFERENCES = 10
LOCALES = canned_replies.LOCALES


@dataclass(frozen=True)
class ReplyForm:
    """What the reply form offers on one work order."""

    default: ReplyChannel | None
    reachable: dict[ReplyChannel, str]  # channel -> the customer's address on it, masked
    canned: list[CannedReply]
    allowed: bool = True  # False for vendors and partners: they never write to the operator's customers
    #: Channels the customer has an address on that this installation has no sender for (the form says so).
    not_configured: tuple[ReplyChannel, ...] = ()


def _reachable(ctx: Context, addresses: dict[ReplyChannel, str]) -> dict[ReplyChannel, str]:
    """Of the customer's addresses (unmasked: for sending), those on channels this installation can
    send on (an SMS gateway, SMTP, WeChat configured), and the portal."""
    return {c: addresses[c] for c in ReplyChannel if c in addresses and _can_send(ctx, c)}


def _can_send(ctx: Context, channel: ReplyChannel) -> bool:
    return channel is ReplyChannel.PORTAL or channel.value in ctx.senders


def _addresses(uow: UnitOfWork, wo: WorkOrder, customer: Customer) -> dict[ReplyChannel, str]:
    """The customer's address on each channel, whether or not kefu can send on it here."""
    found: dict[ReplyChannel, str] = {}
    assert wo.id is not None
    for c in reversed(uow.channels.contacts_of_work_order(wo.id)):
        if c.direction is Direction.INBOUND and c.address:
            if c.channel is Channel.EMAIL and "@" in c.address:
                found.setdefault(ReplyChannel.EMAIL, c.address)
            elif c.channel is Channel.WECHAT:
                found.setdefault(ReplyChannel.WECHAT, c.address)
            elif c.channel is Channel.SMS:
                found.setdefault(ReplyChannel.SMS, c.address)
    if customer.phone:
        found.setdefault(ReplyChannel.SMS, customer.phone)
        # The portal shows a work order to whoever proves the phone with a code sent to it.
        found[ReplyChannel.PORTAL] = "portal"
    if customer.email:
        found.setdefault(ReplyChannel.EMAIL, customer.email)
    if customer.wechat_openid:
        found.setdefault(ReplyChannel.WECHAT, customer.wechat_openid)
    return found


def _values(ctx: Context, uow: UnitOfWork, wo: WorkOrder, customer: Customer, locale: str) -> dict[str, object]:
    """The placeholders of a reply: number, name, promised, engineer, appointment (and the message
    templates' own: promise, status, url)."""
    assert wo.id is not None
    visits = [v for v in uow.visits.of_work_order(wo.id) if v.status is not VisitStatus.CANCELLED]
    visit = visits[-1] if visits else None
    engineer = uow.users.get(visit.engineer_id) if visit else None
    return notify.values_for(
        ctx,
        uow,
        wo,
        locale,
        {
            "name": customer.name,
            "engineer": engineer.display_name if engineer else "",
            "appointment": notify.when(ctx, visit.window_start, visit.window_end) if visit else "",
        },
    )


def _unfilled(template: str, values: dict[str, object]) -> list[str]:
    """The placeholders of a canned reply the work order has no value for yet (an engineer and an
    appointment before a visit is booked): such a reply would reach the customer with gaps."""
    return [
        name for name in dict.fromkeys(re.findall(r"\{([a-z_]+)\}", template)) if not str(values.get(name, "")).strip()
    ]


def reply_form(ctx: Context, actor: User, number: str, *, locale: str = "zh_CN") -> ReplyForm:
    """The channels the customer can be reached on (masked), the default one, and the canned
    replies for the work order's category in `locale`, filled in."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        customer = uow.customers.get(wo.customer_id)
        if customer is None:
            raise NotFound(kind=N_("Customer"), key=wo.customer_id)
        addresses = _addresses(uow, wo, customer)
        reachable = _reachable(ctx, addresses)
        values = _values(ctx, uow, wo, customer, locale)
        canned = [
            CannedReply(t.key, t.category, render(t.subject or "", values), render(t.body, values))
            for (key, loc), t in sorted(canned_replies.texts(uow).items())
            if loc == locale and canned_replies.applies(t.category, wo.category) and not _unfilled(t.body, values)
        ]
        allowed = not scope.external(ctx, uow, actor)
    if not allowed:
        return ReplyForm(default=None, reachable={}, canned=[], allowed=False)
    return ReplyForm(
        default=default_channel(wo.channel, set(reachable)),
        reachable={c: masked_address(c, a) for c, a in reachable.items()},
        canned=canned,
        not_configured=tuple(c for c in ReplyChannel if c in addresses and not _can_send(ctx, c)),
    )


def _channel(
    ctx: Context, value: str | ReplyChannel | None, wo: WorkOrder, reachable: dict[ReplyChannel, str]
) -> ReplyChannel:
    if value is None or value == "":
        chosen = default_channel(wo.channel, set(reachable))
        if chosen is None:
            raise ValidationFailed(
                "The customer has no phone, e-mail address or WeChat account to reply to.", field="channel"
            )
        return chosen
    try:
        channel = ReplyChannel(value)
    except ValueError:
        raise ValidationFailed(
            "Replies go out by sms, email, wechat or portal; not by {value}.", field="channel", value=str(value)[:20]
        ) from None
    if channel is not ReplyChannel.PORTAL and channel.value not in ctx.senders:
        raise ValidationFailed(
            "Nothing is set up here to send by {channel}; choose another channel.",
            field="channel",
            channel=channel.value,
        )
    if channel not in reachable:
        missing = {
            ReplyChannel.SMS: N_("The customer has no phone number; choose another channel."),
            ReplyChannel.EMAIL: N_("The customer has no e-mail address; choose another channel."),
            ReplyChannel.WECHAT: N_("The customer has no WeChat account with us; choose another channel."),
            ReplyChannel.PORTAL: N_("The portal needs the customer's phone number; choose another channel."),
        }
        raise ValidationFailed(missing[channel], field="channel")
    return channel


def _thread(uow: UnitOfWork, wo: WorkOrder) -> tuple[str | None, tuple[str, ...], str | None]:
    """E-mail threading: the Message-ID of the customer's last mail on the work order, the
    conversation's ids for References, and that mail's subject."""
    assert wo.id is not None
    ids: list[str] = []
    last, subject = None, None
    for c in uow.channels.contacts_of_work_order(wo.id):
        if c.channel is not Channel.EMAIL:
            continue
        mid = c.provider_message_id if c.direction is Direction.INBOUND else c.data.get("provider_id")
        if isinstance(mid, str) and mid.startswith("<"):
            ids.append(mid)
            if c.direction is Direction.INBOUND:
                last, subject = mid, c.subject
    return last, tuple(ids[-MAX_REFERENCES:]), subject


def send_reply(
    ctx: Context,
    actor: User,
    number: str,
    *,
    channel: str | ReplyChannel | None = None,
    body: str | None = None,
    canned: str | None = None,
    locale: str = "zh_CN",
    expected_version: int | None = None,
) -> ReplyStatus:
    """Reply to the work order's customer: queued in the outbox and on the timeline in one
    transaction; it leaves after commit. The body is the text given, else the canned reply filled in."""
    if locale not in LOCALES:
        raise ValidationFailed("Replies are written in zh_CN or en.", field="locale")
    if body is not None and "\x00" in body:
        raise ValidationFailed("The reply contains a NUL character.", field="body")
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        status = reply_in(ctx, uow, actor, wo, channel=channel, body=body, canned=canned, locale=locale, at=now)
    return status.masked()


def reply_in(
    ctx: Context,
    uow: UnitOfWork,
    actor: User,
    wo: WorkOrder,
    *,
    channel: str | ReplyChannel | None = None,
    body: str | None = None,
    canned: str | None = None,
    locale: str = "zh_CN",
    at: datetime,
) -> ReplyStatus:
    """Queue a reply within the caller's change to `wo` (`send_reply`, a macro); unmasked."""
    now = at
    if scope.external(ctx, uow, actor):
        raise PermissionDenied(role=actor.role.value, action=N_("reply to the customers of another organisation"))
    customer = uow.customers.get(wo.customer_id)
    assert customer is not None and wo.id is not None and actor.id is not None
    reachable = _reachable(ctx, _addresses(uow, wo, customer))
    chosen = _channel(ctx, channel, wo, reachable)
    subject = None
    if canned:
        text = canned_replies.texts(uow).get((canned, locale))
        if text is None or not canned_replies.applies(text.category, wo.category):
            raise ValidationFailed("There is no canned reply {key} for this work order.", field="canned", key=canned)
        values = _values(ctx, uow, wo, customer, locale)
        subject = render(text.subject or "", values) or None
        if not (body or "").strip():
            if _unfilled(text.body, values):
                raise ValidationFailed(
                    "This canned reply cannot be filled in for this work order yet (no engineer's visit is "
                    "booked, or a detail it names is missing): book the visit first, or write the reply.",
                    field="canned",
                )
            body = render(text.body, values)
    text_body = clean_reply(body or "")
    in_reply_to, references, their_subject = _thread(uow, wo) if chosen is ReplyChannel.EMAIL else (None, (), None)
    if chosen is ReplyChannel.EMAIL and subject is None:
        subject = f"Re: {their_subject}" if their_subject else f"{wo.number} {wo.title}"[:300]
    reply = uow.replies.add(
        Reply(
            id=None,
            work_order_id=wo.id,
            customer_id=wo.customer_id,
            channel=chosen,
            recipient=reachable[chosen],
            body=text_body,
            author_id=actor.id,
            created_at=now,
            subject=subject[:300] if subject else None,
            canned=canned or None,
            locale=locale,
            in_reply_to=in_reply_to,
        )
    )
    assert reply.id is not None
    outbox_id = uow.outbox.add_one(
        Message(
            channel=chosen.value,
            template=TEMPLATE,
            created_at=now,
            deliver_after=now,
            recipient=reachable[chosen],
            work_order_id=wo.id,
            payload={
                "subject": reply.subject or "",
                "body": text_body,
                "number": wo.number,
                "customer_id": wo.customer_id,
                "reply_id": reply.id,
                "in_reply_to": in_reply_to,
                "references": list(references),
            },
        )
    )
    uow.replies.set_outbox(reply.id, outbox_id)
    wo.record(
        WorkOrderEvent(
            kind=EventKind.REPLY_QUEUED,
            actor_id=actor.id,
            at=now,
            note=text_body,
            visibility="customer",
            data={"reply_id": reply.id, "channel": chosen.value, "canned": canned or None},
        )
    )
    wo.updated_at = now
    return ReplyStatus(reply=replace(reply, outbox_id=outbox_id), state=DeliveryState.QUEUED)


def list_replies(ctx: Context, actor: User, number: str) -> list[ReplyStatus]:
    """The work order's replies with their delivery state, addresses masked."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        if scope.external(ctx, uow, actor):
            return []  # what the operator wrote to its customer is not a vendor's to read
        return [s.masked() for s in uow.replies.of_work_order(wo.id or 0)]


# --- delivery (inside the worker's transaction, kefu.services.sla.timers.deliver_outbox) ---------


def delivered(ctx: Context, uow: UnitOfWork, message: Message, provider_id: str | None, now: datetime) -> None:
    """A reply was handed to its channel: on the customer's contact history, and on the work
    order's timeline as the event that meets the reply-to-customer clock."""
    reply_id = message.payload.get("reply_id")
    if not isinstance(reply_id, int) or message.work_order_id is None:
        return
    if message.channel == ReplyChannel.EMAIL.value and provider_id:
        uow.replies.set_message_id(reply_id, provider_id)
    _on_timeline(
        ctx,
        uow,
        message.work_order_id,
        WorkOrderEvent(
            kind=EventKind.REPLY_DELIVERED,
            actor_id=system_id(ctx, uow),
            at=now,
            data={"reply_id": reply_id, "channel": message.channel},
        ),
    )


def contact_of(message: Message, provider_id: str | None, now: datetime) -> Contact:
    """The outbound contact a delivered message to a customer leaves on their history."""
    channel = (
        CONTACT_CHANNEL[ReplyChannel(message.channel)]
        if message.channel in {c.value for c in ReplyChannel}
        else Channel(message.channel)
    )
    return Contact(
        id=None,
        channel=channel,
        direction=Direction.OUTBOUND,
        at=now,
        customer_id=message.payload.get("customer_id"),
        body=str(message.payload.get("body", "")),
        address=message.recipient if message.channel != ReplyChannel.PORTAL.value else None,
        subject=message.payload.get("subject") or None,
        provider_message_id=f"out:{message.id}",
        work_order_id=message.work_order_id,
        data={"template": message.template, "provider_id": provider_id, "reply_id": message.payload.get("reply_id")},
    )


def given_up(ctx: Context, uow: UnitOfWork, message: Message, error: str, now: datetime) -> None:
    """A reply could not be delivered after the last retry: the timeline says so, with the reason."""
    reply_id = message.payload.get("reply_id")
    if not isinstance(reply_id, int) or message.work_order_id is None:
        return
    _on_timeline(
        ctx,
        uow,
        message.work_order_id,
        WorkOrderEvent(
            kind=EventKind.REPLY_FAILED,
            actor_id=system_id(ctx, uow),
            at=now,
            note=error[:500],
            data={"reply_id": reply_id, "channel": message.channel},
        ),
    )


def _on_timeline(ctx: Context, uow: UnitOfWork, work_order_id: int, event: WorkOrderEvent) -> None:
    wo = uow.work_orders.get_by_id(work_order_id)
    if wo is None:
        return
    wo.record(event)
    store_events(ctx, uow, wo)
