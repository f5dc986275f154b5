"""What providers push, signed by the provider instead of a kefu token: the SMS gateway's webhook
and WeChat's message push (with its server URL verification)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kefu.adapters.channels import sms as sms_adapter
from kefu.adapters.channels import wechat as wechat_adapter
from kefu.api.problems import translated_problem
from kefu.api.schemas import Strict
from kefu.domain.customers import normalize_phone
from kefu.domain.errors import N_
from kefu.domain.workorders import Channel
from kefu.services.channels import intake
from kefu.services.context import Context

router = APIRouter(tags=["channels"])


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


async def _receive(request: Request, inbound: intake.Inbound) -> intake.IntakeResult:
    """Store what a provider pushed, on a worker thread (the database is asked)."""
    ctx: Context = request.app.state.kefu.ctx
    return await run_in_threadpool(intake.receive, ctx, inbound)


# --- SMS ------------------------------------------------------------------------------------------


class SmsIn(Strict):
    message_id: Annotated[str, Field(min_length=1, max_length=200, description="the gateway's id of the message")]
    from_: Annotated[str, Field(alias="from", min_length=3, max_length=30, description="the customer's number")]
    to: Annotated[str | None, Field(max_length=30)] = None
    text: Annotated[str, Field(max_length=2000)]
    received_at: AwareDatetime | None = None


@router.post(
    "/api/v1/channels/sms/inbound",
    response_model=IntakeOut,
    responses={401: {"description": "missing or wrong signature"}},
)
async def sms_inbound(request: Request) -> Response:
    """An SMS from a customer, pushed by the gateway; `X-Kefu-Signature: sha256=<hex HMAC-SHA256 of
    the raw body with KEFU_SMS_SECRET>`. A repeated delivery (same message_id) stores nothing new."""
    secret = request.app.state.kefu.settings.sms_secret
    body = await request.body()
    if not sms_adapter.signature_ok(secret, body, request.headers.get(sms_adapter.SIGNATURE_HEADER)):
        return translated_problem(
            request,
            401,
            "bad_signature",
            N_("The request is not signed with the shared secret (header X-Kefu-Signature: sha256=HMAC of the body)."),
        )
    try:
        message = SmsIn.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        return translated_problem(
            request,
            422,
            "validation_failed",
            N_("The body must be JSON with message_id, from and text: {error}"),
            {"error": str(exc)[:300]},
        )
    phone = normalize_phone(message.from_)
    result = await _receive(
        request,
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


def _wechat_signed(request: Request, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
    """Signed by WeChat with the token configured for this account."""
    token = request.app.state.kefu.settings.wechat_token
    return wechat_adapter.signature_ok(token, timestamp, nonce, signature)


def _reply(message: wechat_adapter.WechatMessage, text: str) -> Response:
    """The passive reply: what WeChat shows the customer at once."""
    return Response(wechat_adapter.reply(message, text), media_type="application/xml")


@router.get("/channels/wechat", response_class=PlainTextResponse, include_in_schema=True)
def wechat_verify(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    echostr: str | None = None,
) -> Response:
    """Server URL verification: echo `echostr` when the signature matches the configured token."""
    if not _wechat_signed(request, signature, timestamp, nonce) or echostr is None:
        return PlainTextResponse("invalid signature", status_code=401)
    return PlainTextResponse(echostr)


WELCOME = "欢迎关注！直接发送消息即可反映问题，我们会生成工单并尽快处理。"


@router.post(
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
    if not _wechat_signed(request, signature, timestamp, nonce):
        return PlainTextResponse("invalid signature", status_code=401)
    try:
        message = wechat_adapter.parse(await request.body())
    except wechat_adapter.BadXml as exc:
        return PlainTextResponse(f"bad request: {exc}", status_code=400)
    if message.msg_type == "event":
        if message.event == "subscribe":
            return _reply(message, WELCOME)
        return Response(b"success", media_type="application/xml")
    if message.msg_type != "text" or not message.content:
        return _reply(message, "目前请以文字描述问题，谢谢。")
    result = await _receive(
        request,
        intake.Inbound(
            channel=Channel.WECHAT,
            body=message.content,
            provider_message_id=message.msg_id,
            wechat_openid=message.from_user,
            answer=False,
            data={"account": message.to_user},
        ),
    )
    return _reply(message, result.reply or "已收到，谢谢。")
