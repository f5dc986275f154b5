"""/api/v1/work-orders/{number}/replies: replies to the customer (issue #12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, IfMatch, if_match_version
from kefu.api.responses import json_response
from kefu.api.schemas import Strict
from kefu.domain.replies import MAX_BODY, ReplyChannel, ReplyStatus
from kefu.services import canned_replies as canned
from kefu.services import replies as svc

router = APIRouter(prefix="/work-orders", tags=["replies"])


class ReplyIn(Strict):
    channel: ReplyChannel | None = Field(
        default=None,
        description="sms, email, wechat or portal; default: the channel the customer used for the work order",
    )
    body: Annotated[str | None, Field(max_length=MAX_BODY, description="the text; may be left out with canned")] = None
    canned: Annotated[
        str | None, Field(max_length=50, description="a canned reply's key, filled in for the work order")
    ] = None
    locale: Literal["zh_CN", "en"] = "zh_CN"


class ReplyOut(BaseModel):
    id: int
    channel: ReplyChannel
    recipient: str = Field(description="the customer's address on the channel, masked")
    subject: str | None
    body: str
    canned: str | None
    author_id: int
    created_at: datetime
    state: Literal["queued", "sent", "failed"] = Field(
        description="queued (waiting in the outbox, maybe retried), sent (handed to the channel), "
        "failed (given up after the last retry; error says why)"
    )
    attempts: int
    error: str | None
    sent_at: datetime | None
    message_id: str | None = Field(description="e-mail: the Message-ID it went out with")

    @classmethod
    def of(cls, s: ReplyStatus) -> ReplyOut:
        r = s.reply
        return cls(
            id=r.id or 0,
            channel=r.channel,
            recipient=r.recipient,
            subject=r.subject,
            body=r.body,
            canned=r.canned,
            author_id=r.author_id,
            created_at=r.created_at,
            state=s.state.value,
            attempts=s.attempts,
            error=s.error,
            sent_at=s.sent_at,
            message_id=r.message_id,
        )


class CannedOut(BaseModel):
    key: str
    subject: str
    body: str = Field(description="filled in for this work order")


class RepliesOut(BaseModel):
    number: str
    default_channel: ReplyChannel | None
    channels: dict[str, str] = Field(description="the channels the customer can be reached on: masked address")
    canned: list[CannedOut]
    replies: list[ReplyOut]


@router.post("/{number}/replies", status_code=202, response_model=ReplyOut)
def send_reply(number: str, body: ReplyIn, ctx: Ctx, user: CurrentUser, if_match: IfMatch = None) -> Response:
    """Reply to the customer. Accepted (202): it is queued and leaves through the outbox after
    commit; `GET` shows its delivery state."""
    status = svc.send_reply(
        ctx,
        user,
        number,
        channel=body.channel,
        body=body.body,
        canned=body.canned,
        locale=body.locale,
        expected_version=if_match_version(if_match),
    )
    return json_response(ReplyOut.of(status), status_code=202)


@router.get("/{number}/replies", response_model=RepliesOut)
def list_replies(number: str, ctx: Ctx, user: CurrentUser, locale: Literal["zh_CN", "en"] = "zh_CN") -> Response:
    """The replies with their delivery state, and what a new reply may use (channels, canned replies)."""
    form = svc.reply_form(ctx, user, number, locale=locale)
    found = svc.list_replies(ctx, user, number)
    return json_response(
        RepliesOut(
            number=number,
            default_channel=form.default,
            channels={c.value: a for c, a in form.reachable.items()},
            canned=[CannedOut(key=c.key, subject=c.subject, body=c.body) for c in form.canned],
            replies=[ReplyOut.of(s) for s in found],
        )
    )


# --- canned replies (kept with the message templates; the top organisation's admins change them) ---

canned_router = APIRouter(prefix="/canned-replies", tags=["replies"])


class CannedReplyOut(BaseModel):
    key: str
    locale: str
    category: str | None = Field(description="offered on work orders of this category and below; null: all")
    subject: str | None
    body: str = Field(description="placeholders: {number}, {name}, {promised}, {engineer}, {appointment}")
    edited: bool = Field(description="written or changed by an administrator (else shipped with kefu)")


class CannedReplyIn(Strict):
    category: Annotated[str | None, Field(max_length=100)] = None
    subject: Annotated[str | None, Field(max_length=300)] = None
    body: Annotated[str, Field(min_length=1, max_length=2000)]


@canned_router.get("", response_model=list[CannedReplyOut])
def canned_replies(ctx: Ctx, user: CurrentUser) -> list[CannedReplyOut]:
    return [
        CannedReplyOut(key=t.key, locale=t.locale, category=t.category, subject=t.subject, body=t.body, edited=e)
        for t, e in canned.list_canned(ctx, user)
    ]


@canned_router.put("/{key}/{locale}", response_model=CannedReplyOut)
def save_canned_reply(
    key: Annotated[str, Path(max_length=50)],
    locale: Annotated[str, Path(max_length=10)],
    body: CannedReplyIn,
    ctx: Ctx,
    user: CurrentUser,
) -> CannedReplyOut:
    """Add or change a canned reply (keys start with "reply."; given without, it is added)."""
    saved = canned.save_canned(ctx, user, key, locale, body.category, body.subject, body.body)
    return CannedReplyOut(
        key=saved.key, locale=saved.locale, category=saved.category, subject=saved.subject, body=saved.body, edited=True
    )
