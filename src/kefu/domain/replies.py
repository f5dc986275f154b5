"""Replies to the customer (issue #12): a text an agent sends from the work order on a channel the
customer can be reached on. A reply is queued in the outbox with the change; its delivery state is
the outbox's (queued, sent, failed after the last retry with its reason). Only a delivered reply
answers the customer for the reply-to-customer clock (an event the worker records on delivery)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kefu.domain.customers import mask_email, mask_phone
from kefu.domain.errors import ValidationFailed
from kefu.domain.workorders import Channel

#: The longest reply: an e-mail may be long; an SMS gateway splits long texts into parts.
MAX_BODY = 4000


class ReplyChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WECHAT = "wechat"
    PORTAL = "portal"  # shown to the customer on the self-service portal (/portal)


#: The contact channel a reply is recorded on (the portal is the customer's web channel).
CONTACT_CHANNEL = {
    ReplyChannel.SMS: Channel.SMS,
    ReplyChannel.EMAIL: Channel.EMAIL,
    ReplyChannel.WECHAT: Channel.WECHAT,
    ReplyChannel.PORTAL: Channel.WEB,
}


class DeliveryState(StrEnum):
    QUEUED = "queued"  # waiting in the outbox (maybe after a failed attempt, retried later)
    SENT = "sent"  # handed to the channel
    FAILED = "failed"  # given up after the last retry; `error` says why


def default_channel(
    used: Channel, reachable: set[ReplyChannel], preferred: ReplyChannel | None = None
) -> ReplyChannel | None:
    """The channel a reply goes out on unless the agent chooses: the customer's stated preference
    when they can be reached on it (the customer record keeps none yet: callers pass None), else the
    one the customer used for this work order when it can be written to, else SMS, e-mail, WeChat,
    the portal — the first the customer can be reached on."""
    if preferred is not None and preferred in reachable:
        return preferred
    same = {Channel.SMS: ReplyChannel.SMS, Channel.EMAIL: ReplyChannel.EMAIL, Channel.WECHAT: ReplyChannel.WECHAT}
    if used in (Channel.WEB, Channel.APP):
        return ReplyChannel.PORTAL
    first = same.get(used)
    if first is not None and first in reachable:
        return first
    return next((c for c in ReplyChannel if c in reachable), None)


def clean_reply(body: str) -> str:
    """The reply's text, checked: not empty, no control characters but line breaks and tabs, not
    longer than MAX_BODY."""
    if "\x00" in body:
        raise ValidationFailed("The reply contains a NUL character.", field="body")
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed("Write the reply or choose a canned reply.", field="body")
    if len(text) > MAX_BODY:
        raise ValidationFailed("The reply is longer than {max} characters.", field="body", max=MAX_BODY)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValidationFailed("The reply contains control characters.", field="body")
    return text


@dataclass(frozen=True)
class Reply:
    id: int | None
    work_order_id: int
    customer_id: int
    channel: ReplyChannel
    recipient: str  # phone, e-mail address, WeChat openid, or "portal"
    body: str
    author_id: int
    created_at: datetime
    subject: str | None = None
    canned: str | None = None  # the canned reply it was written from
    locale: str = "zh_CN"
    outbox_id: int | None = None
    #: E-mail: the Message-ID it went out with, and the customer's message it answers.
    message_id: str | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True)
class ReplyStatus:
    """A reply with its delivery state as the outbox has it."""

    reply: Reply
    state: DeliveryState
    attempts: int = 0
    error: str | None = None
    sent_at: datetime | None = None

    def masked(self) -> ReplyStatus:
        """As staff see it: the customer's address masked."""
        r = self.reply
        return replace(self, reply=replace(r, recipient=masked_address(r.channel, r.recipient)))


def masked_address(channel: ReplyChannel, address: str) -> str:
    if channel is ReplyChannel.SMS:
        return mask_phone(address)
    if channel is ReplyChannel.EMAIL:
        return mask_email(address)
    if channel is ReplyChannel.WECHAT:
        return f"{address[:4]}***"
    return address
