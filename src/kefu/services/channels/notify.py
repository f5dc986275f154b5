"""Messages to customers (R4, R18): acknowledgement with number and promised time, received
information, visits, resolution. Texts come from the admin-editable templates (per key, channel and
language; defaults in kefu.domain.message_texts), are filled in when the change happens and leave
through the outbox after commit."""

from __future__ import annotations

from datetime import datetime

from kefu.domain.contacts import check_template, render
from kefu.domain.errors import ValidationFailed
from kefu.domain.message_texts import DEFAULT_TEMPLATES, PROMISE
from kefu.domain.notifications import Message
from kefu.domain.org import Permission, User
from kefu.domain.sla import ClockName
from kefu.domain.workorders import Channel, WorkOrder
from kefu.services import audit
from kefu.services.access import authz
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

LOCALES = ("zh_CN", "en")
#: What the stored copy of a message shows in place of a secret.
MASKED = "******"
#: Channels a customer can be written to; the others (hotline, store, web, app) answer by SMS.
WRITABLE = {Channel.SMS: "sms", Channel.EMAIL: "email", Channel.WECHAT: "wechat"}


def template(
    uow: UnitOfWork, key: str, channel: str, locale: str, ctx: Context | None = None
) -> tuple[str | None, str]:
    """The text in effect: an admin's version, else the default. With `ctx`, the admins' versions
    are read once per `ctx.cache_ttl` (every message needs one; saving clears the cache)."""
    if ctx is not None:
        edited = ctx.caches.templates.get_or_load(
            "all", lambda: {(k, c, loc): (subj, body) for k, c, loc, subj, body in uow.channels.templates()}
        )
        stored = edited.get((key, channel, locale))
    else:
        stored = uow.channels.template(key, channel, locale)
    if stored is not None:
        return stored
    texts = DEFAULT_TEMPLATES[key]
    return texts.get(locale) or texts["zh_CN"]


def values_for(
    ctx: Context, uow: UnitOfWork, wo: WorkOrder, locale: str, extra: dict[str, object]
) -> dict[str, object]:
    promised = wo.promised_at
    if promised is None and wo.id is not None:
        promised = next((r.due_at for r in uow.sla.clocks(wo.id) if r.state.name is ClockName.RESOLUTION), None)
    when = promised.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M") if promised else ""
    promise = PROMISE.get(locale, PROMISE["zh_CN"]).format(promised=when) if when else ""
    return {
        "number": wo.number,
        "promised": when,
        "promise": promise,
        "status": wo.status.value,
        "url": f"{ctx.portal_url}?number={wo.number}#track",
        **extra,
    }


def text_for(
    ctx: Context, uow: UnitOfWork, key: str, channel: Channel, locale: str, wo: WorkOrder, **extra: object
) -> str:
    _, body = template(uow, key, WRITABLE.get(channel, "sms"), locale, ctx)
    return render(body, values_for(ctx, uow, wo, locale, extra))


def to_customer(
    ctx: Context,
    uow: UnitOfWork,
    wo: WorkOrder,
    key: str,
    *,
    channel: Channel | None = None,
    address: str | None = None,
    locale: str = "zh_CN",
    secrets: dict[str, str] | None = None,
    **extra: object,
) -> None:
    """Queue a message to the work order's customer: on the channel they used when it can be
    written to, else by SMS to their phone; nothing when there is no way to reach them.
    `secrets` (a one-time code) are values the message carries but nothing may keep in clear: the
    outbox and the customer's contact history get the text with them masked; the text sent is kept
    encrypted until its delivery."""
    channel = channel or wo.channel
    out = WRITABLE.get(channel)
    if out is not None and not address and wo.id is not None:
        # Answer where the customer wrote from: the address of their first message on this channel.
        address = next(
            (
                c.address
                for c in uow.channels.contacts_of_work_order(wo.id)
                if c.channel is channel and c.direction.value == "in" and c.address
            ),
            None,
        )
    if out is None or not address:
        customer = uow.customers.get(wo.customer_id)
        out, address = ("sms", customer.phone) if customer and customer.phone else (None, None)
    if out is None or not address:
        return
    subject, body = template(uow, key, out, locale, ctx)
    values = values_for(ctx, uow, wo, locale, {**extra, **{k: MASKED for k in secrets or {}}})
    now = ctx.clock.now()
    uow.outbox.add(
        [
            Message(
                channel=out,
                template=f"customer:{key}",
                created_at=now,
                deliver_after=now,
                recipient=address,
                work_order_id=wo.id,
                payload={
                    "subject": render(subject or "", values),
                    "body": render(body, values),
                    "number": wo.number,
                    "customer_id": wo.customer_id,
                },
                secret_body=render(body, {**values, **secrets}) if secrets else None,
            )
        ]
    )


# --- admin ---------------------------------------------------------------------------------------


def list_templates(ctx: Context, actor: User) -> list[tuple[str, str, str, str | None, str, bool]]:
    """Every template in effect: (key, channel, locale, subject, body, edited by an admin)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        stored = {(k, c, loc): (subj, body) for k, c, loc, subj, body in uow.channels.templates()}
    out = []
    for key, texts in DEFAULT_TEMPLATES.items():
        for channel in WRITABLE.values():
            for locale in LOCALES:
                subject, body = stored.get((key, channel, locale)) or texts.get(locale) or texts["zh_CN"]
                out.append((key, channel, locale, subject, body, (key, channel, locale) in stored))
    return out


def save_template(
    ctx: Context, actor: User, key: str, channel: str, locale: str, subject: str | None, body: str
) -> None:
    """Customer-facing texts are the same for every organisation: the top organisation's admins
    change them."""
    require(actor, Permission.SETTINGS_MANAGE)
    if key not in DEFAULT_TEMPLATES:
        raise ValidationFailed(
            "There is no message {key}; the messages are: {keys}.",
            field="key",
            key=key,
            keys=", ".join(DEFAULT_TEMPLATES),
        )
    if channel not in WRITABLE.values() or locale not in LOCALES:
        raise ValidationFailed(
            "Templates exist for channels sms, email, wechat and languages zh_CN, en.", field="channel"
        )
    body = body.strip()
    if not body or len(body) > 2000:
        raise ValidationFailed("The text must be 1 to 2,000 characters long.", field="body")
    check_template(body)
    if subject:
        check_template(subject)
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        before = template(uow, key, channel, locale)
        uow.channels.save_template(
            key, channel, locale, (subject or "").strip() or None, body, actor_id=actor.id or 0, at=ctx.clock.now()
        )
        audit.record_setting_change(
            ctx,
            uow,
            actor,
            "message_template",
            f"{key}/{channel}/{locale}",
            {"subject": before[0], "body": before[1]},
            {"subject": subject, "body": body},
        )
        uow.commit()
    ctx.caches.clear_organisation()


def when(ctx: Context, start: datetime, end: datetime) -> str:
    a, b = start.astimezone(ctx.timezone), end.astimezone(ctx.timezone)
    return f"{a:%Y-%m-%d %H:%M}-{b:%H:%M}"
