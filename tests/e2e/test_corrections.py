"""Corrections in a real browser: an SMS from an unknown number waits in the "to classify" queue; the
agent (of the reception team) corrects its category and type on the work-order page, then merges the
SMS-born customer into the caller's real record. Screenshots go to var/screenshots/."""

from __future__ import annotations

from kefu.domain.org import Role
from kefu.domain.workorders import Channel
from kefu.services.channels import intake
from kefu.services.customers import NewCustomer, register_customer
from tests.e2e.conftest import SCREENSHOTS, NewPage, Site, script_errors, shot
from tests.support.factories import new_user, unique_phone


def test_classify_correct_and_merge(site: Site, new_page: NewPage) -> None:
    got = intake.receive(
        site.kefu.ctx, intake.Inbound(channel=Channel.SMS, body="家里宽带断了，光猫闪红灯", phone=unique_phone())
    )
    assert got.work_order is not None and got.customer_id is not None
    number = got.work_order.number
    clerk = new_user(site.kefu, Role.AGENT)
    real = register_customer(site.kefu.ctx, clerk, NewCustomer(name="陈静", phone=unique_phone(), region="广州"))

    page = new_page(site.agent)
    page.click("#queue-to_classify")
    page.wait_for_selector(f"text={number}")
    assert "最久" in (page.text_content("#queue-to_classify") or "")
    shot(page, "20-to-classify-queue")

    page.click(f"text={number}")
    page.click("#edit summary")
    page.select_option("#edit-type", "fault")
    page.select_option("#edit-category", "broadband.no_connection")
    page.fill("#edit-title", "宽带断网，光猫闪红灯")
    shot(page, "21-edit-form")
    page.click("#edit-form button[type=submit]")
    page.wait_for_selector("li.event.edited")
    timeline = page.text_content("#timeline") or ""
    assert "修改了" in timeline and "宽带断网，光猫闪红灯" in timeline
    shot(page, "22-corrected-work-order")
    page.locator("#timeline").screenshot(path=str(SCREENSHOTS / "22-corrected-timeline.png"))

    page.goto(f"{site.url}/ui/customers/{real.id}")
    page.fill("#merged-id", str(got.customer_id))
    page.fill("#merge-reason", "同一客户用另一个号码发短信")
    shot(page, "23-merge-form")
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector(f"text={number}")
    assert "合并了重复档案" in (page.text_content("#history") or "")
    shot(page, "24-merged-customer")
    assert not script_errors(page)
