"""A user's own notifications (the bell, the notifications page, `/api/v1/notifications`) and their
choices: which kinds also come by e-mail or SMS, and the address and number they go to. Every
function acts on the caller's own; another user's notification does not exist for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu.domain.customers import mask_email, mask_phone, normalize_phone
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.notifications import CopyChannel, Notification, NotificationFilter, NotificationKind
from kefu.domain.org import User
from kefu.services.access import scope
from kefu.services.context import Context

MAX_PAGE = 200
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,190}\.[^@\s\x00-\x1f\x7f.]{1,63}$")


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_before_id: int | None  # the cursor of the next (older) page
    unread: int
    #: The titles of their work orders, read now and only those the reader still sees (a notification
    #: itself keeps the number and codes only).
    titles: dict[int, str] = field(default_factory=dict)


def _me(actor: User) -> int:
    assert actor.id is not None
    return actor.id


def list_notifications(ctx: Context, actor: User, flt: NotificationFilter, *, limit: int = 50) -> NotificationPage:
    """The caller's notifications, newest first, one page at a time, with the unread count."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=MAX_PAGE)
    with ctx.uow() as uow:
        found = uow.notifications.of_user(_me(actor), flt, limit + 1)
        unread = uow.notifications.unread_count(_me(actor))
        items = found[:limit]
        ids = sorted({n.work_order_id for n in items if n.work_order_id is not None})
        seen = uow.work_orders.get_many_by_id(ids, visible_to=scope.visible_to(ctx, uow, actor)) if ids else {}
    more = len(found) > limit
    titles = {i: wo.title for i, wo in seen.items()}
    return NotificationPage(items, items[-1].id if more and items else None, unread, titles)


def unread_count(ctx: Context, actor: User) -> int:
    """The number on the bell."""
    with ctx.uow() as uow:
        return uow.notifications.unread_count(_me(actor))


def mark_read(ctx: Context, actor: User, notification_id: int) -> Notification:
    with ctx.uow(write=True) as uow:
        found = uow.notifications.mark_read(_me(actor), notification_id, ctx.clock.now())
        if found is None:  # none, or someone else's: not confirmed to exist
            raise NotFound(kind=N_("Notification"), key=notification_id)
        uow.commit()
    return found


def mark_all_read(ctx: Context, actor: User) -> int:
    """Mark every unread notification of the caller read; how many there were."""
    with ctx.uow(write=True) as uow:
        count = uow.notifications.mark_all_read(_me(actor), ctx.clock.now())
        uow.commit()
    return count


@dataclass(frozen=True)
class CopySettings:
    """What a user chose to receive also by e-mail or SMS, and where (masked: personal data)."""

    chosen: frozenset[tuple[NotificationKind, CopyChannel]]
    email: str | None
    phone: str | None


def copy_settings(ctx: Context, actor: User) -> CopySettings:
    with ctx.uow() as uow:
        me = uow.users.get(_me(actor))
        chosen = uow.notifications.preferences([_me(actor)]).get(_me(actor), set())
    assert me is not None
    return CopySettings(
        chosen=frozenset(chosen),
        email=mask_email(me.email) if me.email else None,
        phone=mask_phone(me.phone) if me.phone else None,
    )


#: "Leave it as it is" for the address and the number (they are shown masked, so a form sends them
#: back only when the user typed a new one).
UNCHANGED = None


def save_copy_settings(
    ctx: Context,
    actor: User,
    chosen: set[tuple[NotificationKind, CopyChannel]],
    *,
    email: str | None = UNCHANGED,
    phone: str | None = UNCHANGED,
) -> CopySettings:
    """Choose which kinds also come by e-mail or SMS; `email`/`phone`: a new address or number
    ("" removes it; None keeps it). A channel chosen needs its address."""
    new_email = _email(email) if email is not None else None
    new_phone = (normalize_phone(phone) if phone.strip() else "") if phone is not None else None
    with ctx.uow(write=True) as uow:
        me = uow.users.get(_me(actor))
        assert me is not None
        final_email = me.email if new_email is None else (new_email or None)
        final_phone = me.phone if new_phone is None else (new_phone or None)
        channels = {c for _, c in chosen}
        if CopyChannel.EMAIL in channels and not final_email:
            raise ValidationFailed("Give the e-mail address the copies go to.", field="email")
        if CopyChannel.SMS in channels and not final_phone:
            raise ValidationFailed("Give the mobile number the text messages go to.", field="phone")
        uow.notifications.set_addresses(_me(actor), email=final_email, phone=final_phone)
        uow.notifications.set_preferences(_me(actor), chosen)
        uow.commit()
    return copy_settings(ctx, actor)


def _email(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if len(text) > 200 or not _EMAIL_RE.match(text):
        raise ValidationFailed("{value} is not an e-mail address.", field="email", value=text[:200])
    return text
