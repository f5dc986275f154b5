"""Replying to the customer in a real browser (issue #12): a kefu with an SMS gateway and an SMTP
server (the test peers on 127.0.0.1); the agent opens a complaint, takes a canned reply (the text
box fills in), sends it by SMS, sees it queued, then sent once the worker delivered it (the gateway
has it, the reply-to-customer clock is met), and calls the customer with one click. Screenshots:
10-reply-form.png, 11-reply-sent.png."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.domain.workorders import WorkOrderType
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.customers import NewCustomer
from kefu.services.sla.timers import deliver_outbox
from tests.e2e.conftest import script_errors, serving, shot, watched
from tests.support.factories import PASSWORD, registered_work_order
from tests.support.kefus import seeded_kefu
from tests.support.peers import SmsGateway, sms_gateway, smtp_sink

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@dataclass
class ReplySite:
    url: str
    kefu: Kefu
    gateway: SmsGateway
    agent: str
    phone: str
    number: str


@pytest.fixture(scope="module")
def reply_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplySite]:
    db: Path = tmp_path_factory.mktemp("e2e-replies") / "kefu.db"
    with sms_gateway() as gateway, smtp_sink() as (smtp_port, _):
        k = seeded_kefu(
            f"sqlite:///{db}",
            cache_seconds=0,
            sms_gateway=gateway.url,
            sms_secret="e2e-sms-secret-0123456789",
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            mail_from="kefu@centre.example",
            quiet_hours="",
        )
        agent = create_user(
            k.ctx,
            NewUser(username=f"agent{secrets.token_hex(3)}", role=Role.AGENT, password=PASSWORD, display_name="李娜"),
        )
        phone = "13987654321"
        wo = registered_work_order(
            k,
            agent,
            NewCustomer(name="陈十", phone=phone, email="chen10@example.cn", region="广州"),
            type=WorkOrderType.COMPLAINT,
            title="投诉：宽带三天未修复",
            description="报修三天无人上门，要求尽快处理。",
        )
        while deliver_outbox(k.ctx):  # the acknowledgement (R4)
            pass
        try:
            with serving(k) as url:
                yield ReplySite(url, k, gateway, agent.username, phone, wo.number)
        finally:
            k.engine.dispose()


def _login(browser: Browser, site: ReplySite) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = watched(context.new_page())
    page.goto(f"{site.url}/login")
    page.fill("#username", site.agent)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/work-orders**")
    return page


def test_reply_by_sms_from_a_canned_reply_and_call_the_customer(browser: Browser, reply_site: ReplySite) -> None:
    site = reply_site
    page = _login(browser, site)
    page.goto(f"{site.url}/ui/work-orders/{site.number}")
    assert page.text_content("#reply .empty") == "尚未回复客户。"
    # SMS is preselected (a hotline work order), the addresses masked; e-mail and the portal offered too.
    assert page.is_checked("#reply-form input[value=sms]")
    form_text = page.text_content("#reply-form") or ""
    assert "139****4321" in form_text and "c***@example.cn" in form_text and site.phone not in page.content()
    # A canned reply fills the text box for this work order; the agent adds a sentence.
    page.select_option("#reply-canned", "reply.working_on_it")
    text = page.input_value("#reply-body")
    assert text.startswith("陈十您好，您的工单 " + site.number) and "{" not in text
    page.fill("#reply-body", text + "工程师明天上午联系您。")
    page.locator("#reply").scroll_into_view_if_needed()
    shot(page, "10-reply-form")
    page.click("#reply-send")
    page.wait_for_selector("#replies .delivery.queued")
    assert "回复了客户" in (page.text_content("#timeline") or "")
    clock = page.locator(".clock", has_text="答复客户")
    assert "计时中" in (clock.text_content() or "")

    while deliver_outbox(site.kefu.ctx):  # the worker
        pass
    assert site.gateway.messages()[-1]["text"] == text + "工程师明天上午联系您。"
    page.reload()
    page.wait_for_selector("#replies .delivery.sent")
    assert "已将回复送达渠道" in (page.text_content("#timeline") or "")
    assert "已达标" in (page.locator(".clock", has_text="答复客户").text_content() or "")

    # Click-to-call: the button shows the masked phone; the call is recorded on the work order.
    assert "139****4321" in (page.text_content("#call-customer") or "")
    page.click("#call-customer")
    page.wait_for_selector("#timeline :text('致电了客户')")
    page.locator("#reply").scroll_into_view_if_needed()
    shot(page, "11-reply-sent")
    assert not script_errors(page), script_errors(page)


def test_the_customer_reads_a_portal_message(browser: Browser, reply_site: ReplySite) -> None:
    import re

    from kefu.services import replies

    site = reply_site
    with site.kefu.ctx.uow() as uow:
        agent = uow.users.get_by_username(site.agent)
    assert agent is not None
    replies.send_reply(
        site.kefu.ctx, agent, site.number, channel="portal", body="您好，线路检测正常，光猫已远程重启，请查看是否恢复。"
    )
    while deliver_outbox(site.kefu.ctx):
        pass
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = watched(context.new_page())
    page.goto(f"{site.url}/portal")
    page.fill("#t-number", site.number)
    page.fill("#t-phone", site.phone)
    page.click("#track button[type=submit]")
    page.wait_for_selector("#code")
    while deliver_outbox(site.kefu.ctx):
        pass
    texts = [m["text"] for m in site.gateway.messages() if m["to"] == site.phone and "验证码" in m["text"]]
    code = re.search(r"验证码是 (\d{6})", texts[-1])
    assert code
    page.fill("#code", code.group(1))
    page.click("form button[type=submit]")
    page.wait_for_selector("#replies")
    replies_text = page.text_content("#replies") or ""
    assert "线路检测正常" in replies_text and "门户消息" in replies_text
    assert "工程师明天上午联系您" in replies_text  # the SMS reply, delivered, is there too
    shot(page, "12-portal-replies")
    assert not script_errors(page), script_errors(page)
    context.close()
