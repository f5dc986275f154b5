"""Canned replies (issue #12): texts per key, category and language that an agent or a macro sends
to the customer, filled in with the work order's values — the shipped ones (kefu.domain.message_texts)
unless the top organisation's admins wrote their own. Sending is in kefu.services.replies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.domain.contacts import check_template
from kefu.domain.errors import ValidationFailed
from kefu.domain.message_texts import DEFAULT_REPLIES
from kefu.domain.org import Permission, User
from kefu.services import audit
from kefu.services.access import authz
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import CannedText, UnitOfWork

LOCALES = ("zh_CN", "en")


@dataclass(frozen=True)
class CannedReply:
    key: str
    category: str | None
    subject: str
    body: str  # filled in for the work order when offered on it; the template in the admin list


def texts(uow: UnitOfWork) -> dict[tuple[str, str], CannedText]:
    """Every canned reply in effect per (key, locale): an admin's version, else the shipped one."""
    texts = {
        (key, loc): CannedText(key, loc, category, *texts[loc])
        for key, (category, texts) in DEFAULT_REPLIES.items()
        for loc in texts
    }
    texts.update({(t.key, t.locale): t for t in uow.replies.canned()})
    return texts


def applies(category: str | None, wo_category: str) -> bool:
    return category is None or wo_category == category or wo_category.startswith(category + ".")


def list_canned(ctx: Context, actor: User) -> list[tuple[CannedText, bool]]:
    """Every canned reply in effect, and whether an admin wrote or edited it."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        stored = {(t.key, t.locale) for t in uow.replies.canned()}
        return [(t, k in stored) for k, t in sorted(texts(uow).items())]


def save_canned(
    ctx: Context,
    actor: User,
    key: str,
    locale: str,
    category: str | None,
    subject: str | None,
    body: str,
) -> CannedText:
    """Add or change a canned reply (the top organisation's admins, like every customer-facing text)."""
    require(actor, Permission.SETTINGS_MANAGE)
    key = key.strip()
    if not key.startswith("reply."):
        key = f"reply.{key}"
    if len(key) > 50 or len(key) < 7 or not all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in key):
        raise ValidationFailed(
            "A canned reply's key is 1 to 44 letters, digits, dots, dashes or underscores.", field="key"
        )
    if locale not in LOCALES:
        raise ValidationFailed("Replies are written in zh_CN or en.", field="locale")
    body = body.replace("\x00", "").strip()
    if not body or len(body) > 2000:
        raise ValidationFailed("The text must be 1 to 2,000 characters long.", field="body")
    check_template(body)
    subject = (subject or "").replace("\x00", "").strip()[:300] or None
    if subject:
        check_template(subject)
    category = (category or "").strip() or None
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        if category is not None and uow.categories.get(category) is None:
            raise ValidationFailed("There is no category {code}.", field="category", code=category[:100])
        before = texts(uow).get((key, locale))
        saved = CannedText(key, locale, category, subject, body)
        uow.replies.save_canned(saved, actor_id=actor.id or 0, at=ctx.clock.now())
        audit.record_setting_change(
            ctx,
            uow,
            actor,
            "canned_reply",
            f"{key}/{locale}",
            {"category": before.category, "subject": before.subject, "body": before.body} if before else {},
            {"category": category, "subject": subject, "body": body},
        )
        uow.commit()
    return saved


def require_canned_reply(ctx: Context, uow: UnitOfWork, key: str) -> None:
    """A setting (a macro) names a canned reply: it must exist in some language."""
    if not any(k == key for k, _ in texts(uow)):
        raise ValidationFailed("There is no canned reply {key}.", field="reply_template", key=key)


def list_canned_replies(ctx: Context, actor: User) -> list[CannedReply]:
    """The canned replies by key (in Chinese where written in it), for pickers."""
    found: dict[str, CannedReply] = {}
    for text, _edited in list_canned(ctx, actor):
        if text.key not in found or text.locale == "zh_CN":
            # Named by its subject without the placeholders ("工单 {number} 上门安排" → "上门安排").
            name = " ".join(re.sub(r"\{[a-z_]+\}", " ", text.subject or "").split()).removeprefix("工单 ").strip()
            found[text.key] = CannedReply(text.key, text.category, name or text.key, text.body)
    return sorted(found.values(), key=lambda c: c.key)
