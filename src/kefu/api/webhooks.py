"""What providers push, signed by the provider instead of a kefu token: the SMS gateway's webhook
and WeChat's message push (with its server URL verification)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kefu.adapters.channels import sms as sms_adapter
from kefu.adapters.channels import wechat as wechat_adapter
from kefu.api.problems import problem
from kefu.api.schemas import Moment, Strict
from kefu.config import Settings
from kefu.domain.customers import normalize_phone
from kefu.domain.errors import N_, RateLimited
from kefu.domain.workorders import Channel
from kefu.http.clients import address_of
from kefu.i18n import negotiate, translate_error
from kefu.services.channels import intake
from kefu.services.context import Context
from kefu.services.ratelimits import Limit

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


# --- SMS ------------------------------------------------------------------------------------------


class SmsIn(Strict):
    message_id: Annotated[str, Field(min_length=1, max_length=200, description="the gateway's id of the message")]
    from_: Annotated[str, Field(alias="from", min_length=3, max_length=30, description="the customer's number")]
    to: Annotated[str | None, Field(max_length=30)] = None
    text: Annotated[str, Field(max_length=2000)]
    received_at: Moment | None = None


@router.post(
    "/api/v1/channels/sms/inbound",
    response_model=IntakeOut,
    responses={401: {"description": "missing or wrong signature"}},
)
async def sms_inbound(request: Request) -> Response:
    """An SMS from a customer, pushed by the gateway; `X-Kefu-Signature: sha256=<hex HMAC-SHA256 of
    the raw body with KEFU_SMS_SECRET>`. A repeated delivery (same message_id) stores nothing new."""
    ctx: Context = request.app.state.kefu.ctx
    settings = request.app.state.kefu.settings
    ctx.rate_limits.check(Limit.WEBHOOK_ADDRESS, address_of(request.scope))
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
    ctx.rate_limits.check(Limit.WEBHOOK_SENDER, phone)
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


def _wechat_refusal(text: str, status: int = 401) -> Response:
    return PlainTextResponse(text, status_code=status)


@router.get("/channels/wechat", response_class=PlainTextResponse, include_in_schema=True)
def wechat_verify(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    echostr: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Server URL verification: echo `echostr` when the signature matches the configured token and
    the timestamp is recent."""
    settings = request.app.state.kefu.settings
    ctx: Context = request.app.state.kefu.ctx
    ctx.rate_limits.check(Limit.WEBHOOK_ADDRESS, address_of(request.scope))
    if not wechat_adapter.fresh(timestamp, window=settings.wechat_window_seconds):
        return _wechat_refusal("stale or missing timestamp")
    if not wechat_adapter.signature_ok(settings.wechat_token, timestamp, nonce, signature) or echostr is None:
        return _wechat_refusal("invalid signature")
    return PlainTextResponse(echostr)


WELCOME = "欢迎关注！直接发送消息即可反映问题，我们会生成工单并尽快处理。"
TEXT_ONLY = "目前请以文字描述问题，谢谢。"
TOO_FAST = "您发送的消息过于频繁，请稍后再发。"


@router.post(
    "/channels/wechat",
    include_in_schema=True,
    responses={
        200: {"content": {"application/xml": {}}},
        400: {"description": "malformed XML, or (safe mode) a message that does not decrypt for this account"},
        401: {"description": "invalid signature, or a timestamp outside the window"},
        409: {"description": "a replay: this timestamp and nonce were seen before"},
    },
)
async def wechat_message(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    msg_signature: str | None = None,
    encrypt_type: str | None = None,
) -> Response:
    """A message pushed by WeChat: text becomes (or joins) a work order and is answered at once with
    a passive reply; a repeated push (same MsgId) is answered the same way and stores nothing new.

    Plain mode checks `signature` (token, timestamp, nonce: it does not cover the body); safe mode
    (KEFU_WECHAT_MODE=safe) checks `msg_signature`, which covers the encrypted body, decrypts it
    and encrypts the reply. Both refuse a timestamp outside the window and a nonce seen before."""
    kefu = request.app.state.kefu
    ctx: Context = kefu.ctx
    settings = kefu.settings
    ctx.rate_limits.check(Limit.WEBHOOK_ADDRESS, address_of(request.scope))
    if not wechat_adapter.fresh(timestamp, window=settings.wechat_window_seconds):
        return _wechat_refusal("stale or missing timestamp")
    body = await request.body()
    crypto = _crypto(settings)
    try:
        if crypto is not None:
            encrypted = wechat_adapter.encrypted_body(body)
            if encrypt_type != "aes" or not wechat_adapter.signature_ok(
                settings.wechat_token, timestamp, nonce, msg_signature, encrypted
            ):
                return _wechat_refusal("invalid msg_signature")
            body = crypto.decrypt(encrypted)
        elif not wechat_adapter.signature_ok(settings.wechat_token, timestamp, nonce, signature):
            return _wechat_refusal("invalid signature")
        if not ctx.rate_limits.first_time("wechat.nonce", f"{timestamp}:{nonce}", 2 * settings.wechat_window_seconds):
            return _wechat_refusal("replayed: this timestamp and nonce were used before", 409)
        message = wechat_adapter.parse(body)
    except (wechat_adapter.BadXml, wechat_adapter.BadCipher) as exc:
        return PlainTextResponse(f"bad request: {exc}", status_code=400)

    def answer(text: str) -> Response:
        if not text:
            return Response(b"success", media_type="text/plain")
        reply = wechat_adapter.reply(message, text)
        if crypto is not None:
            reply = wechat_adapter.encrypted_reply(crypto, settings.wechat_token, reply)
        return Response(reply, media_type="application/xml")

    if message.msg_type == "event":
        return answer(WELCOME if message.event == "subscribe" else "")
    if message.msg_type != "text" or not message.content:
        return answer(TEXT_ONLY)
    try:
        ctx.rate_limits.check(Limit.WEBHOOK_SENDER, message.from_user)
    except RateLimited:
        return answer(TOO_FAST)
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
    return answer(result.reply or "已收到，谢谢。")


def _crypto(settings: Settings) -> wechat_adapter.Crypto | None:
    """Safe mode's cipher for the configured account, or None in plain mode."""
    if settings.wechat_mode != "safe":
        return None
    return wechat_adapter.Crypto(settings.wechat_aes_key, settings.wechat_app_id)
