"""Tags, bulk actions and files in a real browser: the supervisor adds a tag, the agent selects three
work orders in the list (and one another agent has moved meanwhile) and tags them, reads the result
of each, filters the list by the tag, uploads a file on the work-order page. Screenshots go to
var/screenshots/."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING

from kefu.domain.workorders import Channel, Status, WorkOrderType
from kefu.services.ports import CustomerFilter
from kefu.services.workorders import commands
from tests.e2e.conftest import NewPage, Site, script_errors, shot
from tests.support import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload


def _work_orders(site: Site, count: int) -> list[str]:
    ctx = site.kefu.ctx
    with ctx.uow() as uow:
        agent = uow.users.get_by_username(site.agent)
        found = uow.customers.search(CustomerFilter(phone=site.phone), 1)
    assert agent is not None and found and found[0].id is not None
    customer_id = found[0].id
    numbers = []
    for i in range(count):
        wo, _ = commands.register_work_order(
            ctx,
            agent,
            commands.NewWorkOrder(
                customer_id=customer_id,
                type=WorkOrderType.COMPLAINT,
                category="broadband.slow_speed",
                channel=Channel.HOTLINE,
                title=f"晚高峰网速慢 {i + 1}",
                description="晚上八点后网速只有1M",
            ),
        )
        numbers.append(wo.number)
    return numbers


def test_bulk_tag_and_files(site: Site, new_page: NewPage) -> None:
    lead = new_page(site.supervisor)
    lead.goto(f"{site.url}/ui/admin/tags")
    lead.fill("#tag-name", "投诉回访")
    lead.click("form[action='/ui/admin/tag'] button[type=submit]")
    lead.wait_for_selector("#tag-list :text('投诉回访')")
    shot(lead, "t1-admin-tags")

    numbers = _work_orders(site, 4)
    page = new_page(site.agent)
    page.goto(f"{site.url}/ui/work-orders")
    for number in numbers:
        page.check(f"input[name=items][value^='{number}:']")
    assert page.text_content("#selected-count") == "4"
    page.fill("#bulk input[name=tag]", "投诉回访")
    shot(page, "t2-list-selected")
    # Meanwhile someone accepts the last one: the selection is out of date for it.
    with site.kefu.ctx.uow() as uow:
        other = uow.users.get_by_username(site.supervisor)
    assert other is not None
    commands.transition_work_order(site.kefu.ctx, other, numbers[-1], Status.ACCEPTED)
    page.click("#bulk-submit")
    page.wait_for_selector("#bulk-results")
    assert "成功 3 张，失败 1 张。" in (page.text_content("#bulk-summary") or "")
    shot(page, "t3-bulk-results")
    page.click("text=返回列表")
    page.goto(f"{site.url}/ui/work-orders?status=all&tag=投诉回访")
    assert all(n in page.content() for n in numbers[:3])
    shot(page, "t4-list-by-tag")

    page.goto(f"{site.url}/ui/work-orders/{numbers[0]}")
    page.set_input_files("#file-upload", str(ROOT / "src/kefu/web/static/kefu.css"))
    page.click("#files button[type=submit]")
    page.wait_for_selector("#error")  # text/css is no type kefu keeps
    assert "不接受" in (page.text_content("#error") or "")
    shot(page, "t5-upload-refused")
    page.set_input_files("#file-upload", files=_png_file("光猫指示灯.png"))
    page.check("#files input[name=customer_visible]")
    page.click("#files button[type=submit]")
    page.wait_for_selector("#files a:has-text('光猫指示灯.png')")
    shot(page, "t6-files")
    page.locator("#tags").screenshot(path=str(ROOT / "var/screenshots/t7-tags-card.png"))
    page.locator("#files").screenshot(path=str(ROOT / "var/screenshots/t8-files-card.png"))
    assert not script_errors(page)

    # The customer on the portal (their code checked: the portal's signed cookie) sees the file meant
    # for them and adds a photo of their own.
    payload = f"{numbers[0]}.{int(time.time()) + 3600}"
    secret = str(site.kefu.settings.secret_key).encode()
    ticket = payload + "." + hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    page.context.add_cookies([{"name": "kefu_portal", "value": ticket, "url": site.url}])
    page.goto(f"{site.url}/portal/orders/{numbers[0]}")
    assert "光猫指示灯.png" in (page.text_content("#files") or "")
    page.set_input_files("#p-file", files=_png_file("我家的光猫.png"))
    page.click("#files button[type=submit]")
    page.wait_for_selector("#files a:has-text('我家的光猫.png')")
    shot(page, "t9-portal-files")
    assert not script_errors(page)


def _png_file(name: str) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": _png()}


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x40\x40" * 16 for _ in range(16))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
