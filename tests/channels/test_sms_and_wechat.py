"""SMS webhook and WeChat push through HTTP, on SQLite and PostgreSQL; answers leave through the
outbox to a real HTTP SMS gateway on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from kefu.adapters.channels.sms import sign
from kefu.adapters.channels.wechat import signature
from kefu.bootstrap import Kefu
from kefu.services.sla.timers import deliver_outbox
from tests.channels.conftest import SMS_SECRET, WECHAT_TOKEN
from tests.support.factories import unique_phone
from tests.support.peers import SmsGateway

URL = "/api/v1/channels/sms/inbound"


def post_sms(client: TestClient, payload: Mapping[str, object], secret: str = SMS_SECRET, **headers: str) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    response: Response = client.post(
        URL,
        content=body,
        headers={"Content-Type": "application/json", "X-Kefu-Signature": sign(secret, body), **headers},
    )
    return response


def count(k: Kefu, sql: str, **params: object) -> int:
    with k.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_an_sms_opens_a_work_order_is_answered_and_a_retry_stores_nothing(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    phone, mid = unique_phone(), secrets.token_hex(8)
    r = post_sms(channel_client, {"message_id": mid, "from": f"+86{phone}", "text": "家里宽带从昨晚开始断网，光猫红灯"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["opened"] and not first["duplicate"] and first["work_order"].startswith("GD")
    # The provider retries the same delivery: nothing new.
    again = post_sms(channel_client, {"message_id": mid, "from": phone, "text": "家里宽带从昨晚开始断网，光猫红灯"})
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["work_order"] == first["work_order"]
    assert count(channel_kefu, "SELECT count(*) FROM contacts WHERE provider_message_id = :m", m=mid) == 1
    assert count(channel_kefu, "SELECT count(*) FROM work_orders WHERE customer_id = :c", c=first["customer_id"]) == 1
    # The customer is answered with the number and the promised time, through the gateway.
    sent_before = len(gateway.requests)
    while deliver_outbox(channel_kefu.ctx):
        pass
    mine = [m for m in gateway.messages()[sent_before:] if m["to"] == phone]
    assert len(mine) == 1 and first["work_order"] in mine[0]["text"] and "承诺在" in mine[0]["text"]
    headers, body = gateway.requests[sent_before + gateway.messages()[sent_before:].index(mine[0])]
    assert headers["x-kefu-signature"] == sign(SMS_SECRET, body)
    assert (
        count(
            channel_kefu,
            "SELECT count(*) FROM contacts WHERE customer_id = :c AND direction = 'out'",
            c=first["customer_id"],
        )
        == 1
    )

    # A follow-up naming the number joins the work order; so does one about the same matter within 72 h.
    r = post_sms(
        channel_client,
        {"message_id": secrets.token_hex(8), "from": phone, "text": f"补充：{first['work_order']} 我今天下午在家"},
    )
    assert r.json()["work_order"] == first["work_order"] and not r.json()["opened"]
    r = post_sms(channel_client, {"message_id": secrets.token_hex(8), "from": phone, "text": "请问什么时候来修？"})
    assert r.json()["work_order"] == first["work_order"]
    assert count(channel_kefu, "SELECT count(*) FROM work_orders WHERE customer_id = :c", c=first["customer_id"]) == 1


def test_unsigned_or_badly_signed_sms_is_refused_and_stores_nothing(
    channel_client: TestClient, channel_kefu: Kefu
) -> None:
    mid = secrets.token_hex(8)
    payload = {"message_id": mid, "from": unique_phone(), "text": "test"}
    assert post_sms(channel_client, payload, secret="wrong").status_code == 401
    r = channel_client.post(URL, json=payload)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert count(channel_kefu, "SELECT count(*) FROM contacts WHERE provider_message_id = :m", m=mid) == 0
    # Signed but malformed: a clear 422, nothing stored.
    for bad in (
        b"{not json",
        json.dumps({"message_id": mid, "from": "12", "text": "x"}).encode(),
        json.dumps({"message_id": mid, "from": "abc-not-a-phone", "text": "x"}).encode(),
    ):
        r = channel_client.post(URL, content=bad, headers={"X-Kefu-Signature": sign(SMS_SECRET, bad)})
        assert r.status_code == 422, r.text
    assert count(channel_kefu, "SELECT count(*) FROM contacts WHERE provider_message_id = :m", m=mid) == 0


def test_a_failing_gateway_is_retried_later_and_nothing_is_lost(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    phone = unique_phone()
    post_sms(channel_client, {"message_id": secrets.token_hex(8), "from": phone, "text": "固话有杂音"})
    gateway.fail = True
    try:
        deliver_outbox(channel_kefu.ctx)
    finally:
        gateway.fail = False
    row = "SELECT attempts, last_error, sent_at FROM outbox WHERE recipient = :p"
    with channel_kefu.engine.connect() as conn:
        attempts, error, sent = conn.execute(text(row), {"p": phone}).one()
    assert attempts == 1 and "503" in error and sent is None
    # It waits (1 minute) before the next try; once due, it goes out exactly once.
    with channel_kefu.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET deliver_after = created_at WHERE recipient = :p"), {"p": phone})
    while deliver_outbox(channel_kefu.ctx):
        pass
    assert [m["to"] for m in gateway.messages()].count(phone) == 1


def _wechat_query() -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(4)
    return {"timestamp": ts, "nonce": nonce, "signature": signature(WECHAT_TOKEN, ts, nonce)}


def _xml(openid: str, content: str, msg_id: str, msg_type: str = "text") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_wechat_verification_and_a_text_message_answered_in_the_response(
    channel_client: TestClient, channel_kefu: Kefu
) -> None:
    q = _wechat_query()
    r = channel_client.get("/channels/wechat", params={**q, "echostr": "hello123"})
    assert r.status_code == 200 and r.text == "hello123"
    bad = channel_client.get("/channels/wechat", params={**q, "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 401
    openid, msg_id = "o" + secrets.token_hex(12), str(secrets.randbelow(10**15))
    r = channel_client.post("/channels/wechat", params=_wechat_query(), content=_xml(openid, "手机信号很差", msg_id))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert f"<ToUserName>{openid}</ToUserName>" in r.text and "<FromUserName>gh_kefu</FromUserName>" in r.text
    number = r.text.split("工单号 ")[1][:16]
    assert number.startswith("GD")
    again = channel_client.post(
        "/channels/wechat", params=_wechat_query(), content=_xml(openid, "手机信号很差", msg_id)
    )
    assert again.status_code == 200 and number in again.text  # WeChat's retry gets the same answer
    assert count(channel_kefu, "SELECT count(*) FROM contacts WHERE provider_message_id = :m", m=msg_id) == 1
    # The customer is known by the openid from now on.
    assert count(channel_kefu, "SELECT count(*) FROM customers WHERE wechat_openid = :o", o=openid) == 1


def test_wechat_refuses_bad_signatures_and_malformed_xml(channel_client: TestClient, channel_kefu: Kefu) -> None:
    openid = "o" + secrets.token_hex(12)
    r = channel_client.post(
        "/channels/wechat", params={**_wechat_query(), "signature": "f" * 40}, content=_xml(openid, "x", "1")
    )
    assert r.status_code == 401
    for body in (
        "<xml><ToUserName>a",
        "<notxml/>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<xml><FromUserName>&b;</FromUserName><MsgType>text</MsgType></xml>",
    ):
        r = channel_client.post("/channels/wechat", params=_wechat_query(), content=body)
        assert r.status_code == 400, body
    assert count(channel_kefu, "SELECT count(*) FROM customers WHERE wechat_openid = :o", o=openid) == 0
    r = channel_client.post(
        "/channels/wechat",
        params=_wechat_query(),
        content=_xml(openid, "", "", "event").replace("</xml>", "<Event>subscribe</Event></xml>"),
    )
    assert r.status_code == 200 and "欢迎关注" in r.text
