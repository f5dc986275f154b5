"""Tags, bulk actions and uploaded files on the pages and the portal, on SQLite and PostgreSQL: the
list's checkboxes and the result of each work order, the tags and files cards of the work-order page,
the tags section of the administration, and the customer's files on the portal."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import Role
from kefu.domain.workorders import Status
from kefu.services import attachments
from kefu.services.workorders import commands
from tests.support.databases import Database
from tests.support.factories import new_user, registered_work_order
from tests.support.kefus import GENEROUS_LIMITS, own_kefu
from tests.support.pages import csrf_of, login
from tests.support.provinces import Provinces, two_provinces

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield two_provinces(client, kefu)


def test_list_bulk_tag_with_a_result_for_each(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w, name = world, f"投诉回访{secrets.token_hex(2)}"
    r = client.post("/api/v1/tags", headers=w.supervisor_p.headers, json={"organisation_id": w.p, "name": name})
    assert r.status_code == 201
    numbers = [w.work_order(client) for _ in range(3)]
    login(client, w.agent_p.username)
    page = client.get("/ui/work-orders")
    assert page.status_code == 200 and 'id="select-all"' in page.text and "对选中的工单" in page.text
    for n in numbers:
        assert f'name="items" value="{n}:1"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "action": "tag",
        "tag_mode": "add",
        "tag": name,
        "back": "/ui/work-orders?status=open",
        "items": [f"{n}:1" for n in numbers] + ["GD20200101000001", f"{numbers[0]}:1"],
    }
    done = client.post("/ui/work-orders/bulk", data=form)
    assert done.status_code == 200, done.text
    assert "成功 3 张，失败 1 张。" in done.text and 'href="/ui/work-orders?status=open"' in done.text
    assert done.text.count('class="ok"') == 3 and done.text.count('class="failed"') == 1
    assert "GD20200101000001" in done.text and "不存在" in done.text
    # The list filtered by the tag shows the three, each with the tag.
    tagged = client.get("/ui/work-orders", params={"status": "all", "tag": name})
    assert all(n in tagged.text for n in numbers) and tagged.text.count(f">{name}</a>") == 3
    bad = client.get("/ui/work-orders", params={"tag": "a\x00b"})
    assert bad.status_code == 200 and "tag=" in bad.text  # reported as not understood, nothing crashes
    # The same selection again from the versions seen before: each was changed since.
    again = client.post("/ui/work-orders/bulk", data={**form, "items": [f"{n}:1" for n in numbers]})
    assert "成功 0 张，失败 3 张。" in again.text
    # Bad input refuses the whole request with a message.
    too_many = client.post("/ui/work-orders/bulk", data={**form, "items": [f"GD20261130{i:06d}" for i in range(201)]})
    assert too_many.status_code == 422 and "200" in too_many.text
    nul = client.post("/ui/work-orders/bulk", data={**form, "tag": "x\x00"})
    assert nul.status_code == 422
    unknown = client.post("/ui/work-orders/bulk", data={**form, "action": "explode"})
    assert unknown.status_code == 422 and "explode" in unknown.text


def test_work_order_page_tags_and_files(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w, name = world, f"重点{secrets.token_hex(2)}"
    client.post("/api/v1/tags", headers=w.supervisor_p.headers, json={"organisation_id": w.p, "name": name})
    number = w.work_order(client)
    login(client, w.agent_p.username)
    page = client.get(f"/ui/work-orders/{number}")
    assert (
        page.status_code == 200 and 'id="tags"' in page.text and "暂无标签。" in page.text and "暂无文件。" in page.text
    )
    csrf = csrf_of(page.text)
    r = client.post(
        f"/ui/work-orders/{number}/tags", data={"csrf": csrf, "add": name, "version": "1"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#tags")
    refused = client.post(f"/ui/work-orders/{number}/tags", data={"csrf": csrf, "add": "随便写的"})
    assert refused.status_code == 422 and "不在标签列表中" in refused.text
    stale = client.post(f"/ui/work-orders/{number}/tags", data={"csrf": csrf, "remove": name, "version": "1"})
    assert stale.status_code == 409
    up = client.post(
        f"/ui/work-orders/{number}/attachments",
        data={"csrf": csrf, "customer_visible": "1"},
        files={"file": ("故障照片.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert up.status_code == 303, up.text
    wrong = client.post(
        f"/ui/work-orders/{number}/attachments",
        data={"csrf": csrf},
        files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert wrong.status_code == 422 and "不接受 text/html 类型的文件" in wrong.text
    none = client.post(f"/ui/work-orders/{number}/attachments", data={"csrf": csrf})
    assert none.status_code == 422 and "请选择要上传的文件" in none.text
    no_csrf = client.post(
        f"/ui/work-orders/{number}/attachments", files={"file": ("a.txt", b"a", "text/plain")}, data={"csrf": "x"}
    )
    assert no_csrf.status_code == 422
    page = client.get(f"/ui/work-orders/{number}")
    assert f'<span class="tag">{name}' in page.text and "故障照片.png" in page.text and "添加了文件" in page.text
    link = re.search(rf'href="(/ui/work-orders/{number}/attachments/\d+)">故障照片.png', page.text)
    assert link
    got = client.get(link.group(1))
    assert got.status_code == 200 and got.content == PNG and got.headers["x-content-type-options"] == "nosniff"
    # Another province's agent: not found, on the page and the file.
    login(client, w.agent_q.username)
    assert client.get(link.group(1)).status_code == 404
    assert client.get(f"/ui/work-orders/{number}").status_code == 404


def test_admin_tags_section(client: TestClient, world: Provinces) -> None:
    w, name = world, f"满意{secrets.token_hex(2)}"
    login(client, w.supervisor_p.username)
    page = client.get("/ui/admin/tags")
    assert page.status_code == 200 and "添加标签" in page.text and "自由标签" in page.text
    csrf = csrf_of(page.text)
    r = client.post(
        "/ui/admin/tag", data={"csrf": csrf, "organisation_id": str(w.p), "name": name}, follow_redirects=False
    )
    assert r.status_code == 303
    bad = client.post("/ui/admin/tag", data={"csrf": csrf, "organisation_id": str(w.p), "name": "坏\x00名"})
    assert bad.status_code == 422 and "控制字符" in bad.text
    other = client.post("/ui/admin/tag", data={"csrf": csrf, "organisation_id": str(w.q), "name": "越权"})
    assert other.status_code == 403
    r = client.post(
        "/ui/admin/tag-setting", data={"csrf": csrf, "organisation_id": str(w.p), "free": "1"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get("/ui/admin/tags")
    assert name in page.text and "不允许</button>" in page.text  # now allowed: the button offers to stop it
    client.post("/ui/admin/tag-setting", data={"csrf": csrf, "organisation_id": str(w.p), "free": "0"})


def _portal_cookie(kefu: Kefu, number: str) -> str:
    payload = f"{number}.{int(time.time()) + 3600}"
    secret = str(kefu.settings.secret_key).encode()
    return payload + "." + hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def test_portal_files_of_the_customer(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    number, other = w.work_order(client), w.work_order(client)
    internal = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=w.agent_p.headers,
        files={"file": ("内部.txt", b"internal", "text/plain")},
    ).json()
    shown = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=w.agent_p.headers,
        files={"file": ("说明.pdf", b"%PDF-1.4", "application/pdf")},
        data={"customer_visible": "true"},
    ).json()
    elsewhere = client.post(
        f"/api/v1/work-orders/{other}/attachments",
        headers=w.agent_p.headers,
        files={"file": ("别人的.pdf", b"%PDF-1.4", "application/pdf")},
        data={"customer_visible": "true"},
    ).json()
    # Without the code's cookie: back to the portal's start.
    assert client.get(f"/portal/orders/{number}/attachments/{shown['id']}", follow_redirects=False).status_code == 303
    assert (
        client.post(
            f"/portal/orders/{number}/attachments",
            files={"file": ("a.txt", b"a", "text/plain")},
            follow_redirects=False,
        ).status_code
        == 303
    )
    client.cookies.set("kefu_portal", _portal_cookie(kefu, number))
    page = client.get(f"/portal/orders/{number}")
    assert (
        page.status_code == 200
        and "说明.pdf" in page.text
        and "内部.txt" not in page.text
        and "添加照片或文档" in page.text
    )
    csrf = csrf_of(page.text)
    up = client.post(
        f"/portal/orders/{number}/attachments",
        data={"csrf": csrf},
        files={"file": ("../../我的光猫.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg")},
        follow_redirects=False,
    )
    assert up.status_code == 303, up.text
    bad = client.post(
        f"/portal/orders/{number}/attachments",
        data={"csrf": csrf},
        files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
    )
    assert bad.status_code == 422 and "不接受" in bad.text
    page = client.get(f"/portal/orders/{number}")
    assert "我的光猫.jpg" in page.text and "已添加文件" in page.text
    assert client.get(f"/portal/orders/{number}/attachments/{shown['id']}").content == b"%PDF-1.4"
    assert client.get(f"/portal/orders/{number}/attachments/{internal['id']}").status_code == 404
    assert client.get(f"/portal/orders/{number}/attachments/{elsewhere['id']}").status_code == 404
    # The agent sees the customer's file, marked as theirs; exactly one was stored.
    files = client.get(f"/api/v1/work-orders/{number}/attachments", headers=w.agent_p.headers).json()["items"]
    assert [(f["filename"], f["by_customer"]) for f in files] == [
        ("内部.txt", False),
        ("说明.pdf", False),
        ("我的光猫.jpg", True),
    ]


def test_portal_uploads_are_limited_per_address(database: Database, tmp_path_factory: pytest.TempPathFactory) -> None:
    from kefu.app import create_app

    limits = {**GENEROUS_LIMITS, "portal.upload.address": "2/hour"}
    with own_kefu(database.backend, tmp_path_factory.mktemp("uploads"), "kefu_uploads", rate_limits=limits) as k:
        agent = new_user(k, Role.AGENT)
        wo = registered_work_order(k, agent)
        with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
            c.cookies.set("kefu_portal", _portal_cookie(k, wo.number))
            csrf = csrf_of(c.get(f"/portal/orders/{wo.number}").text)
            answers = [
                c.post(
                    f"/portal/orders/{wo.number}/attachments",
                    data={"csrf": csrf},
                    files={"file": (f"{i}.txt", b"hello", "text/plain")},
                    follow_redirects=False,
                ).status_code
                for i in range(3)
            ]
            assert answers == [303, 303, 429]
            assert len(attachments.customer_files(k.ctx, wo.number)) == 2
        # A finished request takes no more files (the rate limit aside: another address).
        commands.transition_work_order(k.ctx, agent, wo.number, Status.CANCELLED, note="重复登记")
        with pytest.raises(ValidationFailed):
            attachments.customer_upload(
                k.ctx, wo.number, filename="a.txt", content_type="text/plain", content=b"x", address="203.0.113.9"
            )
