"""The bell in a real browser: an urgent work order dispatched to field repair lights the lead's bell;
the notifications page lists it with a link to the work order; marking read counts the bell down;
the lead chooses SMS copies on My account. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re

from kefu.domain.org import Role
from kefu.domain.workorders import Channel, Priority, WorkOrderType
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.dispatch import hops
from kefu.services.sla.timers import deliver_outbox
from kefu.services.workorders import commands
from tests.e2e.conftest import NewPage, Site, script_errors, shot
from tests.support.factories import PASSWORD, unique_phone


def _urgent_dispatch(site: Site, agent_name: str) -> str:
    """A P1 work order (told at once, whatever the quiet hours) dispatched by the agent to field repair."""
    ctx = site.kefu.ctx
    with ctx.uow() as uow:
        agent = uow.users.get_by_username(agent_name)
    assert agent is not None
    customer = register_customer(ctx, agent, NewCustomer(name="刘先生", phone=unique_phone(), region="广州"))
    assert customer.id is not None
    wo, _ = commands.register_work_order(
        ctx,
        agent,
        commands.NewWorkOrder(
            customer_id=customer.id,
            type=WorkOrderType.FAULT,
            category="broadband.no_connection",
            channel=Channel.HOTLINE,
            title="整栋楼宽带中断",
            description="多户反映无法上网",
            priority=Priority.P1,
        ),
    )
    hops.dispatch_work_order(ctx, agent, wo.number, instruction="请立即上门排查", to_team_id=site.field_team)
    while deliver_outbox(ctx):
        pass
    return wo.number


def _bell(page: object) -> str:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_selector("#bell-slot #bell")
    count = page.locator("#bell-count")
    return (count.text_content() or "") if count.count() else "0"


def test_the_bell_lights_up_and_counts_down(site: Site, new_page: NewPage) -> None:
    # A lead of its own (the other browser tests answer hops as site.lead).
    with site.kefu.ctx.uow() as uow:
        lead_model = uow.users.get_by_username(site.lead)
    assert lead_model is not None
    lead_name = f"lead{unique_phone()[-6:]}"
    create_user(
        site.kefu.ctx,
        NewUser(
            username=lead_name,
            role=Role.SUPERVISOR,
            password=PASSWORD,
            display_name="吴组长",
            team_id=lead_model.team_id,
        ),
    )
    lead = new_page(lead_name)
    lead.goto(f"{site.url}/ui/notifications")
    assert "暂无通知" in (lead.text_content("#no-notifications") or "")
    shot(lead, "40-notifications-empty")

    first, second = _urgent_dispatch(site, site.agent), _urgent_dispatch(site, site.agent)
    lead.goto(f"{site.url}/ui/work-orders")
    lead.wait_for_selector("#bell-count")  # HTMX fetched the bell on load
    assert _bell(lead) == "2"
    lead.locator("header.topbar").screenshot(path=str(_path("41-bell-in-top-bar")))

    lead.click("#bell")
    lead.wait_for_url("**/ui/notifications")
    items = lead.locator("li.notification.unread")
    assert items.count() == 2
    text = lead.text_content("#notifications") or ""
    assert "派单到本班组" in text and first in text and second in text and "待接收" in text
    shot(lead, "42-notifications-page")

    # Mark the newest read: the bell says 1; the link opens the work order.
    newest = lead.locator("li.notification").first
    newest.locator("button[id^=read-]").click()
    lead.wait_for_url("**/ui/notifications")
    lead.wait_for_function(
        "document.querySelector('#bell-count') && document.querySelector('#bell-count').textContent === '1'"
    )
    assert lead.locator("li.notification.unread").count() == 1
    shot(lead, "43-one-read")
    lead.click(f".n-number:has-text('{first}')")  # opening it marks it read
    lead.wait_for_url(re.compile(rf".*/ui/work-orders/{first}$"))
    lead.wait_for_selector("#bell-slot #bell")
    assert lead.locator("#bell-count").count() == 0

    # Filter by kind; nothing is unread any more ("mark all read" is offered only while something is).
    lead.goto(f"{site.url}/ui/notifications?kind=mention")
    assert "没有符合筛选条件的通知" in (lead.text_content("#no-notifications") or "")
    lead.goto(f"{site.url}/ui/notifications")
    assert lead.locator("li.notification.unread").count() == 0 and lead.locator("#read-all").count() == 0

    # On call: dispatches also by SMS.
    lead.goto(f"{site.url}/ui/account/notifications")
    lead.check("#copy-dispatched-sms")
    lead.check("#copy-sla_breached-sms")
    lead.fill("#n-phone", "13800138000")
    lead.click("#save-copies")
    lead.wait_for_selector("#saved")
    assert "138****8000" in (lead.text_content("#notification-settings") or "")
    shot(lead, "44-notification-settings")
    assert not script_errors(lead), script_errors(lead)

    # The agent who dispatched hears the answers, and a colleague's @mention.
    ctx = site.kefu.ctx
    with ctx.uow() as uow:
        me = uow.users.get_by_username(lead_name)
        boss = uow.users.get_by_username(site.supervisor)
    assert me is not None and boss is not None
    for number in (first, second):
        held = hops.list_dispatches(ctx, me, number)[-1]
        hops.accept_dispatch(ctx, me, held.id or 0)
    hops.return_dispatch(ctx, me, hops.list_dispatches(ctx, me, first)[-1].id or 0, result="已恢复")
    commands.add_note(ctx, boss, second, f"@{site.agent} 请回访客户")
    while deliver_outbox(ctx):
        pass
    agent = new_page(site.agent)
    agent.goto(f"{site.url}/ui/notifications")
    text = agent.text_content("#notifications") or ""
    assert "派单有答复" in text and "备注中@我" in text and "王主管" in text
    shot(agent, "45-agent-notifications")


def _path(name: str) -> object:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
