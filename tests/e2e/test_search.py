"""The search box in the top bar, in a real browser: a word of a long description finds the work
order; nothing found and a refused search say so. Screenshots go to var/screenshots/."""

from __future__ import annotations

from kefu.services.customers import NewCustomer
from tests.e2e.conftest import NewPage, Site, script_errors, shot
from tests.support.factories import registered_work_order


def test_find_a_work_order_from_the_top_bar(site: Site, new_page: NewPage) -> None:
    k = site.kefu
    with k.ctx.uow() as uow:
        agent = uow.users.get_by_username(site.agent)
    assert agent is not None
    wo = registered_work_order(
        k,
        agent,
        NewCustomer(name="陈静", phone="13800138765"),
        title="家中宽带频繁掉线",
        description="客户反映从昨天晚上开始家里宽带一直断网，光猫红灯闪烁，重启也没有用。",
    )
    page = new_page(site.agent)
    # Words of its title and description (other browser tests' work orders are about 断网 and 光猫 too).
    page.fill("header .topsearch input[name=q]", "掉线 光猫")
    page.press("header .topsearch input[name=q]", "Enter")
    page.wait_for_url("**/ui/search?**")
    row = page.locator("#search-results tbody tr").first
    assert wo.number in (row.text_content() or "")
    assert "138****8765" in (row.text_content() or "") and "13800138765" not in page.content()
    shot(page, "search-01-results")
    page.fill("#search-q", "8765")  # the phone's last digits
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-results")
    assert wo.number in page.content()
    page.fill("#search-q", "电视机")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-results td.empty")
    shot(page, "search-02-nothing-found")
    page.goto(f"{site.url}/ui/search?q=宽带&from=9999-01-01")
    assert page.locator("p.error[role=alert]").count() == 1
    shot(page, "search-03-bad-date")
    page.goto(f"{site.url}/ui/search")
    shot(page, "search-04-empty")
    assert not script_errors(page)
