"""The agent's day in a real browser: log in, find the caller by phone, register, see the SLA
countdown, dispatch to field repair, the lead answers, resolve, read the timeline; switch language;
a concurrent edit shows a clear conflict. Screenshots of the main screens go to var/screenshots/."""

from __future__ import annotations

import re

from tests.e2e.conftest import NewPage, Site, script_errors, shot


def test_register_dispatch_answer_resolve(site: Site, new_page: NewPage) -> None:
    page = new_page(site.agent)
    shot(page, "01-work-order-list")
    page.click("text=登记工单")
    page.wait_for_url("**/ui/work-orders/new")
    # Customer lookup as you type (HTMX), then pick.
    page.fill("#phone-lookup", site.phone[:7])
    page.wait_for_selector("button.pick")
    page.click("button.pick")
    assert page.input_value("#customer_id").isdigit()
    page.select_option("#type", "fault")
    page.select_option("#channel", "hotline")
    page.select_option("#category", "broadband.no_connection")
    page.fill("#title", "宽带无法上网")
    page.fill("#description", "光猫LOS灯红色闪烁，重启无效。")
    # The promised time (R4) is shown before registering, from the policy that will apply.
    page.wait_for_selector("#promise-text:has-text('处理完毕时间')")
    shot(page, "02-register")
    page.click("form.form-grid button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/work-orders/GD\d{14}$"))
    number = page.url.rsplit("/", 1)[1]
    assert page.text_content("#status") == "新建"
    countdown = page.locator(".clock.running .countdown").first
    assert re.search(r"\d+ (小时|分)", countdown.text_content() or "")
    shot(page, "03-work-order")

    # Dispatch to field repair with an instruction.
    page.select_option("#dispatch-to", f"team:{site.field_team}")
    page.fill("#dispatch-instruction", "光猫疑似损坏，请上门更换")
    page.click("form.dispatch-form button[type=submit]")
    page.wait_for_selector("tr.hop.pending")
    assert page.text_content("#status") == "已派单"

    # The field team lead accepts and returns it with the result.
    lead = new_page(site.lead)
    lead.goto(f"{site.url}/ui/teams/{site.field_team}/queue")
    assert number in lead.content()
    shot(lead, "04-team-queue")
    lead.click(f"text={number}")
    lead.click("form.hop-answer button[value=accept]")
    lead.wait_for_selector("tr.hop.accepted")
    lead.fill("form.hop-answer textarea[name=text]", "已上门更换光猫，测速正常。")
    lead.click("form.hop-answer button[value=return]")
    lead.wait_for_selector("tr.hop.returned")

    # Back at the agent: returned, resolve, and the timeline tells the story.
    page.reload()
    assert page.text_content("#status") == "已回单"
    page.fill("#transition-note", "已告知客户，业务恢复")
    page.click("button.move.resolved")
    page.wait_for_selector("#status:has-text('已解决')")
    timeline = page.text_content("#timeline") or ""
    for words in ("登记了工单", "派单", "接收了派单", "回单并给出处理结果", "已告知客户，业务恢复"):
        assert words in timeline, words
    shot(page, "05-resolved")
    assert page.locator("form.dispatch-form, form.visit-form").count() == 0  # re-open first
    assert not script_errors(page), script_errors(page)

    # English, complete: labels and the same data.
    page.click("text=English")
    page.wait_for_selector("#status:has-text('Resolved')")
    assert "Timeline" in page.content() and "Dispatches" in page.content()
    page.click("text=中文")
    page.wait_for_selector("#status:has-text('已解决')")


def test_a_concurrent_edit_shows_the_newer_state(site: Site, new_page: NewPage) -> None:
    first = new_page(site.agent)
    first.goto(f"{site.url}/ui/work-orders/new")
    first.fill("#phone-lookup", site.phone)
    first.wait_for_selector("button.pick")
    first.click("button.pick")
    first.select_option("#category", "broadband.slow_speed")
    first.fill("#title", "网速慢")
    first.fill("#description", "晚上网速只有1M")
    first.click("form.form-grid button[type=submit]")
    first.wait_for_url(re.compile(r".*/ui/work-orders/GD\d{14}$"))
    url = first.url
    second = new_page(site.supervisor)
    second.goto(url)
    first.click("button.move.accepted")
    first.wait_for_selector("#status:has-text('已受理')")
    # The supervisor's page still shows "new": cancelling from it is refused with a clear message
    # and the page shows the newer state, not an error page.
    second.fill("#transition-note", "客户撤销")
    second.click("button.move.cancelled")
    second.wait_for_selector("#error")
    assert "已被他人修改" in (second.text_content("#error") or "")
    assert second.text_content("#status") == "已受理"
    shot(second, "06-conflict")


def test_queues_keyboard_saved_filters_and_sorting(site: Site, new_page: NewPage) -> None:
    page = new_page(site.agent)
    mine = page.locator("#queue-mine .count")
    assert int((mine.text_content() or "0").rstrip("+")) >= 1  # the work orders this agent handles
    page.click("#queue-mine")
    page.wait_for_url("**queue=mine**")
    # Keyboard: / searches, j selects the first row, Enter opens it.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.click("h1")
    page.keyboard.press("j")
    selected = page.locator("tr.selected a").first.text_content()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/work-orders/{selected}")
    # Saved filter: P3 work orders, kept as a chip in the queue bar.
    page.goto(f"{site.url}/ui/work-orders?priority=P3")
    page.fill("#filter-name", "P3 工单")
    page.click("form.save-filter button[type=submit]")
    page.wait_for_selector("span.saved a:has-text('P3 工单')")
    # Sorting a column asks the server (every page in that order, not only the rows shown).
    page.click("#sort-number")
    page.wait_for_url("**sort=number**")
    numbers = page.locator("#work-order-table tbody tr td:first-child").all_text_contents()
    assert numbers == sorted(numbers)
    page.click("#sort-number")
    page.wait_for_url("**sort=-number**")
    assert page.locator("#work-order-table tbody tr td:first-child").all_text_contents() == sorted(
        numbers, reverse=True
    )
    assert page.get_attribute("#work-order-table th[aria-sort]", "aria-sort") == "descending"
    shot(page, "07-queues")
    assert not script_errors(page), script_errors(page)


def test_the_supervisor_dashboard_draws_and_refreshes(site: Site, new_page: NewPage) -> None:
    page = new_page(site.supervisor)
    page.click("text=监控看板")
    page.wait_for_selector(".chart canvas")  # ECharts drew, from kefu's own copy
    before = int(page.text_content("#created-today") or "0")
    _work_order(site)
    # What the page's 30-second timer does, without waiting for it:
    page.evaluate("htmx.ajax('GET', '/ui/dashboard/panel', {target: '#dashboard', swap: 'innerHTML'})")
    page.wait_for_selector(f"#created-today:text-is('{before + 1}')")
    assert page.locator("#agents-load tbody tr").count() >= 1
    shot(page, "08-dashboard")
    assert not script_errors(page), script_errors(page)


def test_admin_pages_validate_and_record_every_change(site: Site, new_page: NewPage) -> None:
    # Categories and message templates are shared by every organisation: a supervisor only reads them.
    page = new_page(site.supervisor)
    page.click("text=系统管理")
    page.wait_for_selector("#categories")
    assert page.locator("#read-only").is_visible() and page.locator("#c-code").count() == 0
    page = new_page(site.settings_admin)
    page.click("text=系统管理")
    page.wait_for_selector("#categories")
    # A category under a parent that does not exist: a clear message, nothing added.
    page.fill("#c-code", "iot.smart_meter")
    page.fill("#c-zh", "智能电表")
    page.fill("#c-en", "Smart meter")
    page.click("form[action='/ui/admin/category'] button[type=submit]")
    assert "请先添加上级分类 iot" in (page.text_content("#error") or "")
    page.fill("#c-code", "broadband.wifi_coverage")
    page.fill("#c-zh", "WiFi覆盖")
    page.fill("#c-en", "WiFi coverage")
    page.click("form[action='/ui/admin/category'] button[type=submit]")
    page.wait_for_selector("#categories td:text-is('broadband.wifi_coverage')")
    # A routing rule, then an agent's capacity, then a message template.
    page.click("#tab-routing")
    page.fill("#r-name", "宽带故障到现场维修")
    page.select_option("#r-categories", "broadband")  # a pick list: no code typed wrong
    page.select_option("#r-team", str(site.field_team))
    page.click("form[action='/ui/admin/rule'] button[type=submit]")
    page.wait_for_selector("#rules td:text-is('宽带故障到现场维修')")
    page.click("#tab-agents")
    row = page.locator("#agents tbody tr", has_text=site.engineer)
    row.locator("input[name=capacity]").fill("abc")
    row.locator("button[type=submit]").click()
    assert "capacity 必须是整数" in (page.text_content("#error") or "")
    row = page.locator("#agents tbody tr", has_text=site.engineer)
    row.locator("input[name=capacity]").fill("8")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/ui/admin/agents")
    assert page.locator("#agents tbody tr", has_text=site.engineer).locator("input[name=capacity]").input_value() == "8"
    page.click("#tab-templates")
    body = page.locator("textarea#b-acknowledged-sms-zh_CN")
    body.fill("已受理，工单号 {number}。{promise}")
    page.locator("form.template", has=body).locator("button[type=submit]").click()
    page.wait_for_url("**/ui/admin/templates")
    page.click("#tab-changes")
    log = page.text_content("#change-log") or ""
    for entry in (
        "category broadband.wifi_coverage",
        "routing_rule 宽带故障到现场维修",
        f"agent {site.engineer}",
        "message_template acknowledged/sms/zh_CN",
    ):
        assert entry in log, entry
    # Before and after read as key/value lists, not JSON.
    agent_row = page.locator("#change-log tr", has_text=f"agent {site.engineer}")
    after = agent_row.locator("td.details").last
    assert after.locator("dt:text-is('capacity') + dd").text_content() == "8" and '"capacity"' not in log
    shot(page, "09-admin-change-log")
    assert not script_errors(page), script_errors(page)


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(el => !(el.getAttribute('aria-label') || (el.id && document.querySelector(`label[for="${el.id}"]`))
                  || el.closest('label')))
  .map(el => el.outerHTML.slice(0, 120))"""


def test_every_control_has_a_label_and_no_page_has_script_errors(site: Site, new_page: NewPage) -> None:
    number = _work_order(site)
    page = new_page(site.supervisor)
    for path in (
        "/ui/work-orders",
        "/ui/work-orders/new",
        "/ui/work-orders/new?channel=store",
        f"/ui/work-orders/{number}",
        "/ui/dashboard",
        "/ui/cti?caller=" + site.phone,
        f"/ui/teams/{site.field_team}/queue",
        "/ui/visits/day",
        *(f"/ui/admin/{t}" for t in ("categories", "teams", "users", "agents", "routing", "sla", "templates")),
        "/portal",
    ):
        page.goto(site.url + path)
        assert page.evaluate(UNLABELLED) == [], path
    assert not script_errors(page), script_errors(page)


def _work_order(site: Site) -> str:
    """A complaint registered through the service (as the agent), for tests that need one."""
    from kefu.domain.workorders import Channel, WorkOrderType
    from kefu.services.workorders import commands as svc

    with site.kefu.ctx.uow() as uow:
        agent = uow.users.get_by_username(site.agent)
        customer_id = uow.channels.find_customer_id(
            phone=site.phone, email=None, wechat_openid=None, account_number=None
        )
    assert agent is not None and customer_id is not None
    wo, _ = svc.register_work_order(
        site.kefu.ctx,
        agent,
        svc.NewWorkOrder(
            customer_id=customer_id,
            type=WorkOrderType.COMPLAINT,
            category="billing",
            channel=Channel.WECHAT,
            title="话费有误",
            description="本月多扣了20元",
        ),
    )
    return wo.number


def test_times_are_shown_in_the_users_timezone(site: Site, new_page: NewPage) -> None:
    from zoneinfo import ZoneInfo

    number = _work_order(site)
    with site.kefu.ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
    assert wo is not None
    created = wo.created_at
    page = new_page(site.agent, timezone="Europe/Berlin")
    page.goto(f"{site.url}/ui/work-orders/{number}")
    page.reload()  # the first page told the server the browser's timezone
    berlin = created.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M")
    shanghai = created.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    facts = page.text_content("header.wo-head") or ""
    assert berlin in facts and shanghai not in facts
