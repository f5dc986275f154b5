"""One agent's shift in a real browser, issue #12's "done when": an SMS from an unknown number comes in
through the gateway's webhook and waits in the reception team's "to classify" queue; the agent finds it
by a word of the text, merges the SMS-born customer into the caller's real record, corrects it to a
complaint (the complaint time limits and the complaints team follow), replies by SMS from a canned
reply (the gateway receives it, the reply-to-customer clock is met), dispatches it to field repair and
hears the answer on the bell, bulk-tags three work orders; a supervisor creates a user who must choose
a password at the first login. Screenshots: var/screenshots/shift-*.png."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kefu.adapters.channels import sms as sms_adapter
from kefu.bootstrap import Kefu
from kefu.domain.org import OrgTree, Role, TeamFunction
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions
from kefu.domain.workorders import Channel, WorkOrderType
from kefu.services import tags
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.dispatch import hops, routing
from kefu.services.sla.timers import deliver_outbox
from kefu.services.workorders import commands
from tests.e2e.conftest import script_errors, serving, shot, watched
from tests.support.factories import PASSWORD
from tests.support.kefus import seeded_kefu
from tests.support.peers import SmsGateway, sms_gateway

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SMS_SECRET = "e2e-shift-sms-secret-0123456789"
COMPLAINTS_RULE = "短信投诉交质量反馈组"
TAG = "夜间回访"


@dataclass
class ShiftSite:
    url: str
    kefu: Kefu
    gateway: SmsGateway
    agent: str
    lead: str
    supervisor: str
    teams: dict[str, int]  # function: team id, of the centre
    caller_id: int  # the caller's real customer record
    caller_phone: str
    others: list[str]  # three work orders to tag in bulk


@pytest.fixture(scope="module")
def shift_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShiftSite]:
    db: Path = tmp_path_factory.mktemp("e2e-shift") / "kefu.db"
    with sms_gateway() as gateway:
        k = seeded_kefu(
            f"sqlite:///{db}", cache_seconds=0, sms_gateway=gateway.url, sms_secret=SMS_SECRET, quiet_hours=""
        )
        ctx = k.ctx
        with ctx.uow() as uow:
            home = OrgTree(uow.org.organisations()).top_id
            assert home is not None
            teams = {t.function.value: t.id or 0 for t in uow.org.teams() if t.organisation_id == home}

        def person(username: str, role: Role, name: str, team: TeamFunction | None) -> NewUser:
            return NewUser(
                username=username,
                role=role,
                password=PASSWORD,
                display_name=name,
                team_id=teams[team.value] if team else None,
                organisation_id=None if team else home,
            )

        agent = create_user(ctx, person("shiftagent", Role.AGENT, "李娜", TeamFunction.RECEPTION))
        create_user(ctx, person("shiftlead", Role.SUPERVISOR, "周强", TeamFunction.FIELD_REPAIR))
        supervisor = create_user(ctx, person("shiftboss", Role.SUPERVISOR, "王主管", TeamFunction.RECEPTION))
        admin = create_user(ctx, person("shiftadmin", Role.ADMIN, "钱管理", None))
        # The operator's own rule, before the shipped "to classify" one: complaints by SMS go to the
        # quality team's queue — once someone has classified them as complaints.
        routing.save_rule(
            ctx,
            admin,
            RoutingRule(
                None,
                COMPLAINTS_RULE,
                10,
                teams["quality"],
                strategy=Strategy.QUEUE,
                conditions=Conditions(types=("complaint",), channels=("sms",)),
            ),
        )
        tags.add_tag(ctx, supervisor, organisation_id=home, name=TAG)
        caller_phone = "13922223333"
        caller = register_customer(
            ctx, agent, NewCustomer(name="陈建国", phone=caller_phone, region="广州", address="广州市越秀区东风路1号")
        )
        assert caller.id is not None
        others = []
        for title in ("光纤入户线被剪断", "固话有杂音", "宽带账号无法登录"):
            wo, _ = commands.register_work_order(
                ctx,
                agent,
                commands.NewWorkOrder(
                    customer_id=caller.id,
                    type=WorkOrderType.FAULT,
                    category="broadband.no_connection",
                    channel=Channel.HOTLINE,
                    title=title,
                    description=title + "，客户来电报修。",
                ),
            )
            others.append(wo.number)
        while deliver_outbox(ctx):
            pass
        try:
            with serving(k) as url:
                yield ShiftSite(
                    url=url,
                    kefu=k,
                    gateway=gateway,
                    agent=agent.username,
                    lead="shiftlead",
                    supervisor=supervisor.username,
                    teams=teams,
                    caller_id=caller.id,
                    caller_phone=caller_phone,
                    others=others,
                )
        finally:
            k.engine.dispose()


def _log_in(browser: Browser, site: ShiftSite, username: str, *, landing: str = "**/ui/work-orders**") -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = watched(context.new_page())
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(landing)
    return page


def _sms_in(site: ShiftSite, sender: str, text: str) -> dict[str, object]:
    """The gateway pushes an SMS to kefu's webhook, signed with the shared secret."""
    body = json.dumps(
        {"message_id": f"gw-in-{sender}", "from": sender, "to": "10086", "text": text}, ensure_ascii=False
    ).encode()
    request = urllib.request.Request(
        f"{site.url}/api/v1/channels/sms/inbound",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", sms_adapter.SIGNATURE_HEADER: sms_adapter.sign(SMS_SECRET, body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
    return answer


def _deliver(site: ShiftSite) -> None:
    while deliver_outbox(site.kefu.ctx):  # the worker
        pass


def test_an_agents_shift(browser: Browser, shift_site: ShiftSite) -> None:
    site = shift_site
    text = "我家宽带每天晚上断网，报修三次都没人上门，我要投诉！"
    got = _sms_in(site, "13700001234", text)
    number, sms_customer = str(got["work_order"]), int(str(got["customer_id"]))
    assert got["opened"] is True and number.startswith("GD")

    # 1. It waits in the reception team's "to classify" queue, with its age.
    page = _log_in(browser, site, site.agent)
    queue = page.locator("#queue-to_classify")
    assert "1" in (queue.locator(".count").text_content() or "")
    assert "最久" in (queue.text_content() or "")
    page.click("#queue-to_classify")
    page.wait_for_selector(f"tr:has-text('{number}')")
    assert page.locator("#work-order-table tbody tr").count() == 1  # only what waits to be classified
    assert "待分类" in (page.locator(f"tr:has-text('{number}')").text_content() or "")
    shot(page, "shift-01-to-classify")

    # 2. Found by a word of the SMS from the top bar.
    page.fill("header .topsearch input[name=q]", "断网")
    page.press("header .topsearch input[name=q]", "Enter")
    page.wait_for_url("**/ui/search?**")
    results = page.text_content("#search-results") or ""
    assert number in results and not any(n in results for n in site.others)
    shot(page, "shift-02-search")

    # 3. The SMS-born "new customer" merged into the caller's real record.
    page.goto(f"{site.url}/ui/customers/{site.caller_id}")
    page.fill("#merged-id", str(sms_customer))
    page.fill("#merge-reason", "客户用家人手机发的短信")
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector(f"text={number}")
    assert "合并了重复档案" in (page.text_content("#history") or "")
    shot(page, "shift-03-merged")

    # 4. Corrected to a complaint: the complaint time limits and the complaints team follow.
    page.goto(f"{site.url}/ui/work-orders/{number}")
    assert "陈建国" in page.content()
    assert "客户接待组" in (page.text_content("#handler") or "")
    page.click("#edit summary")
    page.select_option("#edit-type", "complaint")
    page.select_option("#edit-category", "broadband.no_connection")
    page.fill("#edit-title", "投诉：宽带夜间断网，报修三次无人上门")
    page.click("#edit-form button[type=submit]")
    page.wait_for_selector("li.event.edited")
    assert page.locator("#complaint-badge").count() == 1
    assert "质量反馈组" in (page.text_content("#handler") or "")
    timeline = page.text_content("#timeline") or ""
    assert "投诉答复" in timeline and COMPLAINTS_RULE in timeline
    clock = page.locator(".clock", has_text="答复客户")
    assert "计时中" in (clock.text_content() or "")
    shot(page, "shift-04-corrected")

    # 5. A canned reply by SMS; once the worker delivered it the gateway has it and the clock is met.
    assert page.is_checked("#reply-form input[value=sms]")
    page.select_option("#reply-canned", "reply.working_on_it")
    reply = page.input_value("#reply-body")
    assert reply.startswith("陈建国您好，您的工单 " + number) and "{" not in reply
    page.click("#reply-send")
    page.wait_for_selector("#replies .delivery.queued")
    _deliver(site)
    sent = [m for m in site.gateway.messages() if m["text"] == reply]
    assert len(sent) == 1 and sent[0]["to"] in (site.caller_phone, "13700001234")
    page.reload()
    page.wait_for_selector("#replies .delivery.sent")
    assert "已达标" in (page.locator(".clock", has_text="答复客户").text_content() or "")
    page.locator("#reply").scroll_into_view_if_needed()
    shot(page, "shift-05-replied")

    # 6. Dispatched to field repair; the field lead accepts and returns it: the agent's bell lights up.
    page.select_option("#dispatch-to", f"team:{site.teams['field_repair']}")
    page.fill("#dispatch-instruction", "请上门检查夜间断网原因")
    page.click(".dispatch-form button[type=submit]")
    page.wait_for_selector("#timeline :text('派单')")
    ctx = site.kefu.ctx
    with ctx.uow() as uow:
        lead = uow.users.get_by_username(site.lead)
    assert lead is not None
    hop = hops.list_dispatches(ctx, lead, number)[-1]
    hops.accept_dispatch(ctx, lead, hop.id or 0)
    hops.return_dispatch(ctx, lead, hop.id or 0, result="更换分光器端口，已恢复")
    _deliver(site)
    page.reload()
    page.wait_for_selector("#bell-count")
    assert page.text_content("#bell-count") == "2"  # accepted, then returned
    page.locator("header.topbar").screenshot(path=str(_path("shift-06-bell")))
    page.click("#bell")
    page.wait_for_url("**/ui/notifications")
    entry = page.locator("li.notification.unread", has_text=number).first
    assert "派单有答复" in (entry.text_content() or "")
    shot(page, "shift-06-notifications")
    entry.locator(f".n-number:has-text('{number}')").click()
    page.wait_for_url(re.compile(rf".*/ui/work-orders/{number}$"))

    # 7. Three work orders tagged in bulk from the list, each with its result.
    page.goto(f"{site.url}/ui/work-orders")
    for other in site.others:
        page.check(f"input[name=items][value^='{other}:']")
    assert page.text_content("#selected-count") == "3"
    page.select_option("#bulk-action", "tag")
    page.fill("#bulk input[name=tag]", TAG)
    shot(page, "shift-07-selected")
    page.click("#bulk-submit")
    page.wait_for_selector("#bulk-results")
    assert "成功 3 张" in (page.text_content("#bulk-summary") or "")
    results = page.text_content("#bulk-results") or ""
    assert all(other in results for other in site.others)
    shot(page, "shift-07-bulk-tagged")
    assert not script_errors(page), script_errors(page)

    # 8. The supervisor adds a colleague, who must choose a password at the first login.
    boss = _log_in(browser, site, site.supervisor)
    boss.goto(f"{site.url}/ui/admin/users")
    boss.fill("#u-username", "newagent")
    boss.fill("#u-name", "张新")
    boss.fill("#u-password", "Temporary pass 2026")
    boss.select_option("#u-role", "agent")
    boss.select_option("#u-team", str(site.teams["reception"]))
    boss.click("#new-user button[type=submit]")
    boss.wait_for_selector("#users tr:has-text('newagent')")
    shot(boss, "shift-08-user-created")
    assert not script_errors(boss), script_errors(boss)
    newcomer = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    watched(newcomer)
    newcomer.goto(f"{site.url}/login")
    newcomer.fill("#username", "newagent")
    newcomer.fill("#password", "Temporary pass 2026")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/ui/account/password**")
    shot(newcomer, "shift-08-first-login")
    newcomer.goto(f"{site.url}/ui/work-orders")  # nothing else until the password is chosen
    newcomer.wait_for_url("**/ui/account/password**")
    newcomer.fill("#current_password", "Temporary pass 2026")
    newcomer.fill("#password", "Jade river 2026")
    newcomer.fill("#repeat", "Jade river 2026")
    newcomer.click("form[action='/ui/account/password'] button[type=submit]")
    newcomer.wait_for_url("**/ui/work-orders**")
    assert not script_errors(newcomer), script_errors(newcomer)


def _path(name: str) -> Path:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
