"""Channel endpoints: the SMS gateway's webhook, WeChat's message push, CTI call events and the
screen-pop, the customer's timeline across channels, and the templates of messages to customers."""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kefu.adapters.channels import sms as sms_adapter
from kefu.adapters.channels import wechat as wechat_adapter
from kefu.api.deps import context, current_user
from kefu.api.problems import problem
from kefu.api.schemas import MAX_ID, CustomerOut, Strict, WorkOrderOut
from kefu.domain.contacts import Contact
from kefu.domain.customers import mask_email, mask_phone, normalize_phone
from kefu.domain.errors import N_
from kefu.domain.org import Permission, User
from kefu.domain.workorders import Channel
from kefu.i18n import negotiate, translate_error
from kefu.services import customers as customer_svc
from kefu.services.access.authz import require
from kefu.services.channels import cti, intake, notify
from kefu.services.context import Context

router = APIRouter(tags=["channels"])
public = APIRouter(tags=["channels"])  # signed by the provider, not by a kefu token


class ContactOut(BaseModel):
    id: int | None
    channel: str
    direction: str
    at: datetime
    address: str | None = Field(description="the customer's number, address or openid, masked")
    subject: str | None
    body: str
    work_order_id: int | None
    attachments: list[dict[str, Any]]
    data: dict[str, Any]

    @classmethod
    def of(cls, c: Contact) -> ContactOut:
        address = c.address
        if address:
            address = mask_email(address) if "@" in address else mask_phone(address) if address.isdigit() else address
        return cls(
            id=c.id,
            channel=c.channel.value,
            direction=c.direction.value,
            at=c.at,
            address=address,
            subject=c.subject,
            body=c.body,
            work_order_id=c.work_order_id,
            attachments=[
                {**a.describe(), "url": f"/api/v1/contacts/{c.id}/attachments/{i}"} for i, a in enumerate(c.attachments)
            ],
            data=c.data,
        )


class IntakeOut(BaseModel):
    contact_id: int | None
    customer_id: int | None
    work_order: str | None = Field(description="the number of the work order it was threaded into or opened")
    opened: bool
    duplicate: bool = Field(description="the provider sent this message before: nothing new was stored")


def _intake_out(result: intake.IntakeResult) -> IntakeOut:
    return IntakeOut(
        contact_id=result.contact.id,
        customer_id=result.customer_id,
        work_order=result.work_order.number if result.work_order else None,
        opened=result.opened,
        duplicate=result.duplicate,
    )


# --- SMS ------------------------------------------------------------------------------------------


class SmsIn(Strict):
    message_id: Annotated[str, Field(min_length=1, max_length=200, description="the gateway's id of the message")]
    from_: Annotated[str, Field(alias="from", min_length=3, max_length=30, description="the customer's number")]
    to: Annotated[str | None, Field(max_length=30)] = None
    text: Annotated[str, Field(max_length=2000)]
    received_at: AwareDatetime | None = None


@public.post(
    "/api/v1/channels/sms/inbound",
    response_model=IntakeOut,
    responses={401: {"description": "missing or wrong signature"}},
)
async def sms_inbound(request: Request) -> Response:
    """An SMS from a customer, pushed by the gateway; `X-Kefu-Signature: sha256=<hex HMAC-SHA256 of
    the raw body with KEFU_SMS_SECRET>`. A repeated delivery (same message_id) stores nothing new."""
    ctx: Context = request.app.state.kefu.ctx
    settings = request.app.state.kefu.settings
    body = await request.body()
    locale = negotiate(request.headers.get("accept-language"))
    if not sms_adapter.signature_ok(settings.sms_secret, body, request.headers.get(sms_adapter.SIGNATURE_HEADER)):
        return problem(
            request,
            401,
            "bad_signature",
            translate_error(
                locale,
                N_(
                    "The request is not signed with the shared secret "
                    "(header X-Kefu-Signature: sha256=HMAC of the body)."
                ),
                {},
            ),
        )
    try:
        message = SmsIn.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        return problem(
            request,
            422,
            "validation_failed",
            translate_error(
                locale, N_("The body must be JSON with message_id, from and text: {error}"), {"error": str(exc)[:300]}
            ),
        )
    phone = normalize_phone(message.from_)
    result = await run_in_threadpool(
        intake.receive,
        ctx,
        intake.Inbound(
            channel=Channel.SMS,
            body=message.text,
            provider_message_id=message.message_id,
            at=message.received_at,
            phone=phone,
            data={"to": message.to},
        ),
    )
    return Response(_intake_out(result).model_dump_json(), media_type="application/json")


# --- WeChat -----------------------------------------------------------------------------------------


@public.get("/channels/wechat", response_class=PlainTextResponse, include_in_schema=True)
def wechat_verify(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    echostr: str | None = None,
) -> Response:
    """Server URL verification: echo `echostr` when the signature matches the configured token."""
    token = request.app.state.kefu.settings.wechat_token
    if not wechat_adapter.signature_ok(token, timestamp, nonce, signature) or echostr is None:
        return PlainTextResponse("invalid signature", status_code=401)
    return PlainTextResponse(echostr)


WELCOME = "欢迎关注！直接发送消息即可反映问题，我们会生成工单并尽快处理。"


@public.post(
    "/channels/wechat",
    include_in_schema=True,
    responses={
        200: {"content": {"application/xml": {}}},
        400: {"description": "malformed XML"},
        401: {"description": "invalid signature"},
    },
)
async def wechat_message(
    request: Request, signature: str | None = None, timestamp: str | None = None, nonce: str | None = None
) -> Response:
    """A message pushed by WeChat: text becomes (or joins) a work order and is answered at once with
    a passive reply; a repeated push (same MsgId) is answered the same way and stores nothing new."""
    ctx: Context = request.app.state.kefu.ctx
    token = request.app.state.kefu.settings.wechat_token
    if not wechat_adapter.signature_ok(token, timestamp, nonce, signature):
        return PlainTextResponse("invalid signature", status_code=401)
    try:
        message = wechat_adapter.parse(await request.body())
    except wechat_adapter.BadXml as exc:
        return PlainTextResponse(f"bad request: {exc}", status_code=400)
    if message.msg_type == "event":
        text = WELCOME if message.event == "subscribe" else ""
        return Response(wechat_adapter.reply(message, text) if text else b"success", media_type="application/xml")
    if message.msg_type != "text" or not message.content:
        return Response(wechat_adapter.reply(message, "目前请以文字描述问题，谢谢。"), media_type="application/xml")
    result = await run_in_threadpool(
        intake.receive,
        ctx,
        intake.Inbound(
            channel=Channel.WECHAT,
            body=message.content,
            provider_message_id=message.msg_id,
            wechat_openid=message.from_user,
            answer=False,
            data={"account": message.to_user},
        ),
    )
    return Response(wechat_adapter.reply(message, result.reply or "已收到，谢谢。"), media_type="application/xml")


# --- CTI --------------------------------------------------------------------------------------------


class CallEventIn(Strict):
    call_id: Annotated[str, Field(min_length=1, max_length=100)]
    event: cti.CallEventKind
    at: AwareDatetime
    caller: Annotated[str, Field(min_length=1, max_length=30)]
    callee: Annotated[str | None, Field(max_length=30)] = None
    queue: Annotated[str | None, Field(max_length=100)] = None
    agent: Annotated[str | None, Field(max_length=64, description="the agent's kefu username")] = None


class CallOut(BaseModel):
    call_id: str
    caller: str
    callee: str | None
    queue: str | None
    agent_id: int | None
    ringing_at: datetime | None
    answered_at: datetime | None
    hangup_at: datetime | None
    answer_seconds: float | None
    answered_in_time: bool | None = Field(description="answered within 30 seconds (R9)")
    customer_id: int | None
    work_order_id: int | None

    @classmethod
    def of(cls, v: cti.CallView) -> CallOut:
        c = v.call
        return cls(
            call_id=c.call_id,
            caller=mask_phone(c.caller) if c.caller.isdigit() else c.caller,
            callee=c.callee,
            queue=c.queue,
            agent_id=c.agent_id,
            ringing_at=c.ringing_at,
            answered_at=c.answered_at,
            hangup_at=c.hangup_at,
            answer_seconds=v.answer_seconds,
            answered_in_time=v.answered_in_time,
            customer_id=c.customer_id,
            work_order_id=c.work_order_id,
        )


@router.post("/cti/events", response_model=CallOut)
def call_event(body: CallEventIn, ctx: Context = Depends(context), user: User = Depends(current_user)) -> CallOut:
    """A call event from the call-centre platform (ringing, answered, hangup). Repeats change nothing."""
    require(user, Permission.WORKORDER_CREATE)
    return CallOut.of(
        cti.record_call_event(
            ctx,
            cti.CallEvent(
                call_id=body.call_id,
                kind=body.event,
                at=body.at,
                caller=body.caller,
                callee=body.callee,
                queue=body.queue,
                agent=body.agent,
            ),
        )
    )


class ScreenPopOut(BaseModel):
    caller: str
    customers: list[CustomerOut]
    open_work_orders: list[WorkOrderOut]
    recent_contacts: list[ContactOut]
    call: CallOut | None


@router.get("/cti/screen-pop", response_model=ScreenPopOut)
def screen_pop(
    caller: Annotated[str, Query(min_length=3, max_length=30)],
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> ScreenPopOut:
    """Who is calling: the customer (masked), their open work orders and their latest contacts."""
    pop = cti.screen_pop(ctx, user, caller)
    return ScreenPopOut(
        caller=mask_phone(pop.caller) if pop.caller.isdigit() else pop.caller,
        customers=[CustomerOut.of(c, masked=True) for c in pop.customers],
        open_work_orders=[WorkOrderOut.of(w) for w in pop.open_work_orders],
        recent_contacts=[ContactOut.of(c) for c in pop.recent_contacts],
        call=CallOut.of(pop.call) if pop.call else None,
    )


# --- customer 360 ------------------------------------------------------------------------------------


class TimelineItemOut(BaseModel):
    kind: str = Field(description="contact, work_order or visit")
    at: datetime
    contact: ContactOut | None = None
    work_order: WorkOrderOut | None = None
    visit: dict[str, Any] | None = None


@router.get("/customers/{customer_id}/timeline", response_model=list[TimelineItemOut])
def timeline(
    customer_id: Annotated[int, Path(gt=0, le=MAX_ID)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> list[TimelineItemOut]:
    """Everything with this customer across channels — calls, messages in and out, work orders,
    field visits — newest first."""
    out = []
    for item in customer_svc.customer_timeline(ctx, user, customer_id, limit=limit):
        visit = None
        if item.visit is not None:
            v = item.visit
            visit = {
                "id": v.id,
                "work_order_id": v.work_order_id,
                "status": v.status.value,
                "window_start": v.window_start,
                "window_end": v.window_end,
                "outcome": v.outcome.value if v.outcome else None,
            }
        out.append(
            TimelineItemOut(
                kind=item.kind,
                at=item.at,
                contact=ContactOut.of(item.contact) if item.contact else None,
                work_order=WorkOrderOut.of(item.work_order) if item.work_order else None,
                visit=visit,
            )
        )
    return out


@router.get(
    "/contacts/{contact_id}/attachments/{position}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def attachment(
    contact_id: Annotated[int, Path(gt=0, le=MAX_ID)],
    position: Annotated[int, Path(ge=0, le=100)],
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """A file that came with a contact (e.g. an e-mail's screenshot), for those who may see the contact."""
    found = customer_svc.contact_attachment(ctx, user, contact_id, position)
    disposition = "inline" if found.content_type.startswith("image/") else "attachment"
    quoted = urllib.parse.quote(found.filename)
    return Response(
        found.content or b"",
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# --- templates ----------------------------------------------------------------------------------------


class TemplateOut(BaseModel):
    key: str
    channel: str
    locale: str
    subject: str | None
    body: str
    edited: bool = Field(description="changed by an admin (else kefu's default)")


class TemplateIn(Strict):
    subject: Annotated[str | None, Field(max_length=300)] = None
    body: Annotated[str, Field(min_length=1, max_length=2000, description="placeholders: {number}, {promise} …")]


@router.get("/message-templates", response_model=list[TemplateOut])
def templates(ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[TemplateOut]:
    return [
        TemplateOut(key=k, channel=c, locale=loc, subject=s, body=b, edited=e)
        for k, c, loc, s, b, e in notify.list_templates(ctx, user)
    ]


@router.put("/message-templates/{key}/{channel}/{locale}", response_model=TemplateOut)
def save_template(
    key: Annotated[str, Path(max_length=50)],
    channel: Annotated[str, Path(max_length=20)],
    locale: Annotated[str, Path(max_length=10)],
    body: TemplateIn,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> TemplateOut:
    notify.save_template(ctx, user, key, channel, locale, body.subject, body.body)
    return TemplateOut(key=key, channel=channel, locale=locale, subject=body.subject, body=body.body, edited=True)
