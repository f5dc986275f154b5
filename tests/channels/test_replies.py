"""Replies to the customer from the work order (issue #12): through the API and the outbox to the real
test peers on 127.0.0.1 (HTTP SMS gateway, SMTP server), the portal; delivery states (queued, sent,
failed after the last retry with the reason); the reply-to-customer clock met only on delivery;
e-mail threading both ways; canned replies; refused input. SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import secrets
from datetime import UTC, datetime, timedelta
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kefu.adapters.channels.mail import parse
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.notifications import MAX_ATTEMPTS
from kefu.domain.org import Role
from kefu.domain.workorders import Channel, WorkOrderType
from kefu.services import canned_replies, replies
from kefu.services.channels.intake import receive
from kefu.services.customers import NewCustomer
from kefu.services.sla.timers import deliver_outbox
from tests.support.databases import Database
from tests.support.factories import (
    Actor,
    make_actor,
    new_customer,
    new_organisation,
    new_user,
    registered_work_order,
    unique_phone,
)
from tests.support.kefus import own_kefu
from tests.support.peers import SmsGateway


def _deliver(k: Kefu) -> None:
    while deliver_outbox(k.ctx):
        pass


def _complaint(client: TestClient, agent: Actor, **customer: Any) -> tuple[dict[str, Any], str]:
    c = new_customer(client, agent, name="陈十", **customer)
    r = client.post(
        "/api/v1/work-orders",
        headers=agent.headers,
        json={
            "customer_id": c["id"],
            "type": "complaint",
            "category": "broadband.no_connection",
            "channel": "hotline",
            "title": "投诉：宽带三天未修复",
            "description": "报修三天无人上门",
        },
    )
    assert r.status_code == 201, r.text
    return c, r.json()["number"]


def _clock(client: TestClient, agent: Actor, number: str, name: str = "customer_reply") -> str:
    clocks = client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]
    state: str = next(c["state"] for c in clocks if c["name"] == name)
    return state


def _kinds(client: TestClient, agent: Actor, number: str) -> list[str]:
    events = client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    return [e["kind"] for e in events]


def test_sms_reply_reaches_the_gateway_and_only_its_delivery_meets_the_clock(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    phone = unique_phone()
    customer, number = _complaint(c, agent, phone=phone)
    _deliver(channel_kefu)
    # R4: registered by an agent, the customer is told the number and the promised time by SMS.
    told = [m["text"] for m in gateway.messages() if m["to"] == phone]
    assert len(told) == 1 and number in told[0] and "承诺在" in told[0]

    # A note "visible to the customer" reaches no one: the clock keeps running.
    r = c.post(
        f"/api/v1/work-orders/{number}/notes", headers=agent.headers, json={"body": "已联系", "customer_visible": True}
    )
    assert r.status_code == 201
    assert _clock(c, agent, number) == "running"

    offered = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()
    assert offered["default_channel"] == "sms" and offered["replies"] == []
    assert offered["channels"]["sms"] == f"{phone[:3]}****{phone[-4:]}" and "email" not in offered["channels"]
    r = c.post(
        f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"body": "您好，工程师明天上午上门。"}
    )
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["state"] == "queued" and queued["channel"] == "sms" and phone not in r.text
    # Queued is not answered: the clock still runs until the gateway has it.
    assert _clock(c, agent, number) == "running"
    assert "reply_queued" in _kinds(c, agent, number)

    _deliver(channel_kefu)
    texts = [m["text"] for m in gateway.messages() if m["to"] == phone]
    assert texts[-1] == "您好，工程师明天上午上门。"
    listed = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()["replies"]
    assert [(x["state"], x["attempts"], x["error"]) for x in listed] == [("sent", 1, None)]
    assert _clock(c, agent, number) == "met"
    kinds = _kinds(c, agent, number)
    assert kinds.index("reply_queued") < kinds.index("reply_delivered")

    # The customer's contact history shows it once, with its delivery state.
    timeline = c.get(f"/api/v1/customers/{customer['id']}/timeline", headers=agent.headers).json()
    shown = [i for i in timeline if i["kind"] == "reply"]
    assert [(i["reply"]["state"], i["reply"]["body"]) for i in shown] == [("sent", "您好，工程师明天上午上门。")]
    assert not [i for i in timeline if i["kind"] == "contact" and i["contact"]["body"] == "您好，工程师明天上午上门。"]


def test_canned_reply_is_filled_in_for_the_work_order(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    phone = unique_phone()
    _, number = _complaint(c, agent, phone=phone)
    offered = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()["canned"]
    working = next(x for x in offered if x["key"] == "reply.working_on_it")
    assert number in working["body"] and "陈十" in working["body"] and "{" not in working["body"]
    r = c.post(f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"canned": "reply.working_on_it"})
    assert r.status_code == 202, r.text
    assert r.json()["canned"] == "reply.working_on_it" and r.json()["body"] == working["body"]
    _deliver(channel_kefu)
    assert [m["text"] for m in gateway.messages() if m["to"] == phone][-1] == working["body"]
    # English on request; an unknown canned reply is refused, naming the field.
    en = c.get(f"/api/v1/work-orders/{number}/replies?locale=en", headers=agent.headers).json()["canned"]
    assert any(x["body"].startswith("Hello 陈十") for x in en)
    r = c.post(f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"canned": "reply.nothing"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "canned"
    # The visit reply names the engineer and the time: not offered, and refused, before a visit is booked
    # (it would reach the customer with gaps).
    assert "reply.engineer_visit" not in [x["key"] for x in offered]
    r = c.post(f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"canned": "reply.engineer_visit"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "canned"
    assert (
        "工程师"
        in c.post(
            f"/api/v1/work-orders/{number}/replies",
            headers={**agent.headers, "Accept-Language": "zh-CN"},
            json={"canned": "reply.engineer_visit"},
        ).json()["detail"]
    )


def test_an_admin_adds_a_canned_reply_for_a_category(channel_client: TestClient, channel_kefu: Kefu) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    admin = new_user(channel_kefu, Role.ADMIN)
    key = f"reply.outage{secrets.token_hex(3)}"
    canned_replies.save_canned(
        channel_kefu.ctx,
        admin,
        key,
        "zh_CN",
        "broadband",
        "区域故障",
        "{name}您好，您所在区域光缆故障，预计 {promised} 前恢复。",
    )
    _, number = _complaint(c, agent, phone=unique_phone())
    offered = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()["canned"]
    mine = next(x for x in offered if x["key"] == key)
    assert mine["body"].startswith("陈十您好") and mine["subject"] == "区域故障"
    with pytest.raises(Exception, match="category"):
        canned_replies.save_canned(channel_kefu.ctx, admin, key, "zh_CN", "no.such", None, "x")
    with pytest.raises(Exception, match="brace"):
        canned_replies.save_canned(channel_kefu.ctx, admin, key, "zh_CN", None, None, "{number")
    agent_user = new_user(channel_kefu, Role.AGENT)
    with pytest.raises(Exception, match="may not"):
        canned_replies.save_canned(channel_kefu.ctx, agent_user, key, "zh_CN", None, None, "x")


def test_email_replies_thread_both_ways(
    channel_client: TestClient, channel_kefu: Kefu, mailbox: tuple[int, list[bytes]]
) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    address = f"zhao{secrets.token_hex(4)}@example.cn"
    first = MIMEText("我家宽带一直掉线，已经投诉过一次了。", "plain", "utf-8")
    first["From"], first["To"], first["Subject"] = address, "kefu@centre.example", "宽带掉线投诉"
    first["Message-ID"] = their_id = f"<{secrets.token_hex(6)}@example.cn>"
    result = receive(channel_kefu.ctx, parse(first.as_bytes()))
    assert result.opened and result.work_order is not None
    number = result.work_order.number
    _deliver(channel_kefu)  # the acknowledgement

    offered = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()
    assert offered["default_channel"] == "email"
    before = len(mailbox[1])
    r = c.post(f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"body": "您好，已安排复查线路。"})
    assert r.status_code == 202, r.text
    _deliver(channel_kefu)
    sent = [email.message_from_bytes(m, policy=email.policy.default) for m in mailbox[1][before:]]
    mine = [m for m in sent if m["To"] == address]
    assert len(mine) == 1
    answer = mine[0]
    assert answer["In-Reply-To"] == their_id and their_id in answer["References"]
    assert answer["Subject"].startswith("Re: 宽带掉线投诉") and answer.get_content().strip() == "您好，已安排复查线路。"
    listed = c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()["replies"]
    assert listed[0]["state"] == "sent" and listed[0]["message_id"] == answer["Message-ID"]

    # The customer answers the reply: no number in the subject, only In-Reply-To; it threads back.
    again = MIMEText("好的，明天全天在家。", "plain", "utf-8")
    again["From"], again["To"], again["Subject"] = address, "kefu@centre.example", "回复：安排"
    again["Message-ID"] = f"<{secrets.token_hex(6)}@example.cn>"
    again["In-Reply-To"] = answer["Message-ID"]
    again["References"] = f"{their_id} {answer['Message-ID']}"
    threaded = receive(channel_kefu.ctx, parse(again.as_bytes()))
    assert not threaded.opened and threaded.work_order is not None and threaded.work_order.number == number
    # Answering their own earlier mail (References only) threads as well.
    third = MIMEText("补充：光猫型号 HG8245。", "plain", "utf-8")
    third["From"], third["Subject"] = address, "补充"
    third["Message-ID"] = f"<{secrets.token_hex(6)}@example.cn>"
    third["References"] = their_id
    assert receive(channel_kefu.ctx, parse(third.as_bytes())).work_order.number == number  # type: ignore[union-attr]
    # Someone else naming our message threads nothing onto this customer's work order.
    other = MIMEText("冒充", "plain", "utf-8")
    other["From"], other["Subject"] = f"x{secrets.token_hex(3)}@example.cn", "冒充"
    other["In-Reply-To"] = answer["Message-ID"]
    stranger = receive(channel_kefu.ctx, parse(other.as_bytes()))
    assert stranger.opened and stranger.work_order is not None and stranger.work_order.number != number


def test_portal_message_is_shown_on_the_portal(channel_client: TestClient, channel_kefu: Kefu) -> None:
    from kefu.services.channels import portal

    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    _, number = _complaint(c, agent, phone=unique_phone())
    r = c.post(
        f"/api/v1/work-orders/{number}/replies",
        headers=agent.headers,
        json={"channel": "portal", "body": "您好，处理结果已上传，请查看。"},
    )
    assert r.status_code == 202 and r.json()["recipient"] == "portal"
    assert portal.view(channel_kefu.ctx, number).replies == []  # not before it is handed over
    _deliver(channel_kefu)
    shown = portal.view(channel_kefu.ctx, number).replies
    assert [x.body for x in shown] == ["您好，处理结果已上传，请查看。"]
    assert _clock(c, agent, number) == "met"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax", "body": "x"}, "channel"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": "长" * 4001}, "body"),
        ({"body": "x", "locale": "fr"}, "locale"),
        ({"body": "x", "extra": 1}, "extra"),
        ({"channel": "email", "body": "x"}, "channel"),
        ({"channel": "wechat", "body": "x"}, "channel"),
        ({"body": "x", "canned": "c" * 51}, "canned"),
    ],
)
def test_bad_replies_are_refused_naming_the_field_and_nothing_is_stored(
    channel_client: TestClient, channel_kefu: Kefu, body: dict[str, Any], field: str
) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    _, number = _complaint(c, agent, phone=unique_phone())  # no e-mail address, no WeChat
    r = c.post(f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert c.get(f"/api/v1/work-orders/{number}/replies", headers=agent.headers).json()["replies"] == []
    assert "reply_queued" not in _kinds(c, agent, number)


def test_other_organisations_and_strangers_cannot_reply(channel_client: TestClient, channel_kefu: Kefu) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    _, number = _complaint(c, agent, phone=unique_phone())
    admin = make_actor(channel_kefu, Role.ADMIN)
    org = new_organisation(c, admin, "乙省", "province")
    from kefu.services.access.tokens import create_api_token

    other = new_user(channel_kefu, Role.SUPERVISOR, prefix="b", organisation_id=org)
    headers = {"Authorization": f"Bearer {create_api_token(channel_kefu.ctx, other.username, name='t').token}"}
    for method in ("GET", "POST"):
        r = c.request(method, f"/api/v1/work-orders/{number}/replies", headers=headers, json={"body": "x"})
        assert r.status_code == 404, r.text
    assert c.post(f"/api/v1/work-orders/{number}/replies", json={"body": "x"}).status_code == 401
    quality = make_actor(channel_kefu, Role.QUALITY)
    assert (
        c.post(f"/api/v1/work-orders/{number}/replies", headers=quality.headers, json={"body": "x"}).status_code == 403
    )
    assert (
        c.post("/api/v1/work-orders/GD20990101000001/replies", headers=agent.headers, json={"body": "x"}).status_code
        == 404
    )


def test_a_reply_that_cannot_be_delivered_fails_after_the_last_retry_with_the_reason(
    database: Database, tmp_path: Path, gateway: SmsGateway
) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    # Mail goes to a port nobody listens on; SMS works.
    with own_kefu(
        database.backend,
        tmp_path,
        "kefu_replies",
        clock=clock,
        smtp_url="smtp://127.0.0.1:9",
        sms_gateway=gateway.url,
        sms_secret="s" * 22,
        quiet_hours="",
    ) as k:
        agent = new_user(k, Role.AGENT)
        wo = registered_work_order(
            k,
            agent,
            NewCustomer(name="孙七", phone=unique_phone(), email=f"s{secrets.token_hex(3)}@example.cn"),
            type=WorkOrderType.COMPLAINT,
            title="投诉",
            description="无人处理",
        )
        replies.send_reply(k.ctx, agent, wo.number, channel="email", body="您好，我们正在处理。")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            deliver_outbox(k.ctx)
            (status,) = replies.list_replies(k.ctx, agent, wo.number)
            assert status.attempts == attempt and status.error and "SMTP" in status.error
            assert status.state.value == ("failed" if attempt == MAX_ATTEMPTS else "queued")
            clock.advance(timedelta(hours=7))
        from kefu.services.workorders import queries

        history, _ = queries.work_order_history(k.ctx, agent, wo.number)
        failed = [e for e in history if e.kind.value == "reply_failed"]
        assert len(failed) == 1 and failed[0].note and "SMTP" in failed[0].note
        assert not [e for e in history if e.kind.value == "reply_delivered"]
        _, clocks = queries.get_work_order(k.ctx, agent, wo.number)
        assert next(c.state for c in clocks if c.name.value == "customer_reply") in ("running", "warned", "breached")


def test_the_reply_form_and_click_to_call_on_the_work_order_page(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    import re

    from tests.support.pages import csrf_of, logged_in

    c = channel_client
    agent = logged_in(c, channel_kefu, Role.AGENT)
    phone = unique_phone()
    customer, number = _complaint(c, agent, phone=phone)
    page = c.get(f"/ui/work-orders/{number}")
    assert page.status_code == 200 and 'id="reply-form"' in page.text and "尚未回复客户" in page.text
    # SMS is the default (a hotline work order), the phone masked; no e-mail address, so no e-mail.
    assert re.search(
        r'value="sms" checked>\s*短信 <span class="muted">' + phone[:3] + r"\*\*\*\*" + phone[-4:], page.text
    )
    assert 'value="email"' not in page.text and phone not in page.text
    assert 'data-body="陈十您好，您的工单 ' + number in page.text
    # Refused input comes back on the page with a sentence, nothing stored.
    bad = c.post(f"/ui/work-orders/{number}/replies", data={"csrf": csrf_of(page.text), "channel": "sms", "body": " "})
    assert bad.status_code == 422 and "请填写回复内容或选择常用回复" in bad.text
    r = c.post(
        f"/ui/work-orders/{number}/replies",
        data={"csrf": csrf_of(page.text), "channel": "sms", "canned": "reply.working_on_it", "body": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#reply")
    page = c.get(f"/ui/work-orders/{number}")
    assert '<span class="delivery queued">排队中</span>' in page.text and "回复了客户" in page.text
    _deliver(channel_kefu)
    page = c.get(f"/ui/work-orders/{number}")
    assert '<span class="delivery sent">已发送' in page.text and "已将回复送达渠道" in page.text
    assert "回复已发送" in page.text  # the contact history beside it

    # Click-to-call: the masked phone on the button; the call is recorded on the work order as the
    # CTI events API records calls, outbound, on the customer's history.
    assert f">呼叫 {phone[:3]}****{phone[-4:]}</button>" in page.text
    r = c.post(f"/ui/work-orders/{number}/call", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/ui/work-orders/{number}")
    assert "致电了客户" in page.text
    timeline = c.get(f"/api/v1/customers/{customer['id']}/timeline", headers=agent.headers).json()
    calls = [i["contact"] for i in timeline if i["kind"] == "contact" and i["contact"]["channel"] == "hotline"]
    assert len(calls) == 1 and calls[0]["direction"] == "out" and calls[0]["data"]["call_id"].startswith("kefu-out-")
    # The platform then reports the call's progress on the same id.
    answered = c.post(
        "/api/v1/cti/events",
        headers=agent.headers,
        json={
            "call_id": calls[0]["data"]["call_id"],
            "event": "answered",
            "at": datetime.now(UTC).isoformat(),
            "caller": phone,
        },
    )
    assert answered.status_code == 200 and answered.json()["work_order_id"] == calls[0]["work_order_id"] is not None


def test_outbound_calls_through_the_cti_events_api(channel_client: TestClient, channel_kefu: Kefu) -> None:
    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    phone = unique_phone()
    _, number = _complaint(c, agent, phone=phone)
    at = datetime.now(UTC).isoformat()
    body = {"call_id": f"cti-{secrets.token_hex(4)}", "event": "dialing", "at": at, "caller": phone}
    r = c.post("/api/v1/cti/events", headers=agent.headers, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "work_order"
    r = c.post("/api/v1/cti/events", headers=agent.headers, json={**body, "work_order": "GD20990101000001"})
    assert r.status_code == 404
    r = c.post("/api/v1/cti/events", headers=agent.headers, json={**body, "work_order": number})
    assert r.status_code == 200 and r.json()["caller"] == f"{phone[:3]}****{phone[-4:]}"
    assert "call_placed" in _kinds(c, agent, number)


def test_wechat_replies_go_through_the_customer_service_api(database: Database, tmp_path: Path) -> None:
    from kefu.services.channels.intake import Inbound
    from tests.support.peers import wechat_api

    with (
        wechat_api("wx-app-1", "app-secret-1") as api,
        own_kefu(
            database.backend,
            tmp_path,
            "kefu_wechat_replies",
            wechat_app_id="wx-app-1",
            wechat_app_secret="app-secret-1",
            wechat_api_url=api.url,
            quiet_hours="",
        ) as k,
    ):
        openid = f"o{secrets.token_hex(10)}"
        first = receive(k.ctx, Inbound(channel=Channel.WECHAT, body="宽带断了", wechat_openid=openid, answer=False))
        assert first.work_order is not None
        number = first.work_order.number
        agent = new_user(k, Role.AGENT)
        form = replies.reply_form(k.ctx, agent, number)
        assert form.default is not None and form.default.value == "wechat"
        assert form.reachable[form.default] == openid[:4] + "***"
        replies.send_reply(k.ctx, agent, number, body="您好，已为您安排维修。")
        deliver_outbox(k.ctx)
        assert api.sent == [{"touser": openid, "msgtype": "text", "text": {"content": "您好，已为您安排维修。"}}]
        assert [s.state.value for s in replies.list_replies(k.ctx, agent, number)] == ["sent"]
        # An expired token is fetched again once; the message still goes.
        api.expire()
        replies.send_reply(k.ctx, agent, number, body="第二条")
        deliver_outbox(k.ctx)
        assert api.sent[-1]["text"] == {"content": "第二条"} and api.token_requests == 2
        # Outside WeChat's 48-hour window: the failure names WeChat's reason.
        api.out_of_window.add(openid)
        replies.send_reply(k.ctx, agent, number, body="第三条")
        deliver_outbox(k.ctx)
        third = replies.list_replies(k.ctx, agent, number)[-1]
        assert third.state.value == "queued" and third.error and "45015" in third.error


def test_the_customer_reads_the_replies_on_the_portal(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    from tests.channels.test_portal import code_for
    from tests.support.pages import csrf_of

    c, agent = channel_client, make_actor(channel_kefu, Role.AGENT)
    phone = unique_phone()
    _, number = _complaint(c, agent, phone=phone)
    for channel, body in (("portal", "您好，检测报告已出，线路正常。"), ("sms", "您好，明天上午上门。")):
        r = c.post(
            f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"channel": channel, "body": body}
        )
        assert r.status_code == 202
    _deliver(channel_kefu)
    home = c.get("/portal")
    sent = c.post("/portal/track", data={"csrf": csrf_of(home.text), "number": number, "phone": phone})
    code = code_for(channel_kefu, gateway, phone)
    r = c.post(
        "/portal/verify", data={"csrf": csrf_of(sent.text), "number": number, "code": code}, follow_redirects=False
    )
    assert r.status_code == 303
    page = c.get(f"/portal/orders/{number}")
    assert page.status_code == 200 and "客服消息" in page.text
    assert "您好，检测报告已出，线路正常。" in page.text and "门户消息" in page.text
    assert "您好，明天上午上门。" in page.text and agent.username not in page.text


def test_canned_replies_on_the_admin_page_and_through_the_api(channel_client: TestClient, channel_kefu: Kefu) -> None:
    from tests.support.pages import csrf_of, logged_in

    c = channel_client
    admin = make_actor(channel_kefu, Role.ADMIN)
    key = f"reply.api{secrets.token_hex(3)}"
    r = c.put(
        f"/api/v1/canned-replies/{key}/zh_CN",
        headers=admin.headers,
        json={"category": "broadband.no_connection", "subject": "抢修", "body": "{name}您好，{number} 抢修中。"},
    )
    assert r.status_code == 200 and r.json()["edited"] is True, r.text
    listed = c.get("/api/v1/canned-replies", headers=make_actor(channel_kefu, Role.AGENT).headers).json()
    assert any(x["key"] == key and x["category"] == "broadband.no_connection" for x in listed)
    assert {x["key"] for x in listed} >= {"reply.working_on_it", "reply.engineer_visit", "reply.more_information"}
    for bad, field in (
        ({"body": "{number"}, "body"),
        ({"body": "x", "category": "no.such"}, "category"),
        ({"body": ""}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": "长" * 2001}, "body"),
    ):
        r = c.put(f"/api/v1/canned-replies/{key}/zh_CN", headers=admin.headers, json=bad)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (bad, r.text)
    r = c.put("/api/v1/canned-replies/reply.x/fr", headers=admin.headers, json={"body": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "locale"
    r = c.put("/api/v1/canned-replies/坏 键/zh_CN", headers=admin.headers, json={"body": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "key"
    supervisor = make_actor(channel_kefu, Role.SUPERVISOR)
    assert (
        c.put(f"/api/v1/canned-replies/{key}/zh_CN", headers=supervisor.headers, json={"body": "x"}).status_code == 403
    )

    # The admin page lists them and adds one; a stray brace comes back with a sentence.
    logged_in(c, channel_kefu, Role.ADMIN)
    page = c.get("/ui/admin/templates")
    assert page.status_code == 200 and 'id="canned-replies"' in page.text and key in page.text
    page_key = f"reply.page{secrets.token_hex(3)}"
    r = c.post(
        "/ui/admin/canned-reply",
        data={"csrf": csrf_of(page.text), "key": page_key, "locale": "en", "category": "", "body": "Hello {name}"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert page_key in c.get("/ui/admin/templates").text
    bad = c.post(
        "/ui/admin/canned-reply", data={"csrf": csrf_of(page.text), "key": page_key, "locale": "en", "body": "{name"}
    )
    assert bad.status_code == 422 and "模板中有多余的花括号" in bad.text
