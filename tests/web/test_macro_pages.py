"""Macros on the pages, on SQLite and PostgreSQL: the administration's macros section (add, refuse with
a message, switch off), the work-order page's "apply a macro" card and the list's bulk action."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from tests.support.pages import csrf_of, login
from tests.support.provinces import Provinces, two_provinces


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield two_provinces(client, kefu)


def _add(client: TestClient, w: Provinces, name: str, **fields: str) -> str:
    login(client, w.supervisor_p.username)
    page = client.get("/ui/admin/macros")
    assert page.status_code == 200 and "添加宏" in page.text
    form = {"csrf": csrf_of(page.text), "name": name, "organisation_id": str(w.p), **fields}
    shown: str = client.post("/ui/admin/macro", data=form).text
    return shown


def test_a_supervisor_adds_a_macro_and_an_agent_applies_it(client: TestClient, world: Provinces) -> None:
    w, name = world, f"受理并加急{secrets.token_hex(2)}"
    shown = _add(client, w, name, priority="P1", status="accepted", note="已受理，加急处理")
    assert name in shown and "→ 已受理" in shown
    number = w.work_order(client, priority="P3")
    login(client, w.agent_p.username)
    page = client.get(f"/ui/work-orders/{number}")
    assert "应用宏" in page.text and name in page.text
    macro_id = page.text.split(f">{name}</option>")[0].rsplit('value="', 1)[1].split('"')[0]
    done = client.post(
        f"/ui/work-orders/{number}/macro",
        data={"csrf": csrf_of(page.text), "macro_id": macro_id, "version": "1"},
    )
    assert done.status_code == 200, done.text
    assert "应用了宏" in done.text and "已受理，加急处理" in done.text
    again = client.get("/api/v1/work-orders/" + number, headers=w.agent_p.headers).json()
    assert (again["priority"], again["status"]) == ("P1", "accepted")
    # The stale form (version 1) applies nothing a second time: the page says so.
    stale = client.post(
        f"/ui/work-orders/{number}/macro",
        data={"csrf": csrf_of(page.text), "macro_id": macro_id, "version": "1"},
    )
    assert stale.status_code == 409 and 'role="alert"' in stale.text


def test_a_bad_macro_is_refused_on_the_page(client: TestClient, world: Provinces) -> None:
    w = world
    shown = _add(client, w, f"空宏{secrets.token_hex(2)}")
    assert "什么也不做" in shown or "至少选择一项" in shown
    shown = _add(client, w, "x\x00y", priority="P1")
    assert 'role="alert"' in shown
    assert "x\x00y" not in client.get("/api/v1/macros", headers=w.supervisor_p.headers).text


def test_the_bulk_bar_applies_a_macro_to_the_selection(client: TestClient, world: Provinces) -> None:
    w, name = world, f"批量加急{secrets.token_hex(2)}"
    _add(client, w, name, priority="P2")
    numbers = [w.work_order(client, priority="P4") for _ in range(2)]
    login(client, w.agent_p.username)
    page = client.get("/ui/work-orders")
    assert '<option value="macro">' in page.text and name in page.text
    macro_id = page.text.split(f">{name}</option>")[0].rsplit('value="', 1)[1].split('"')[0]
    done = client.post(
        "/ui/work-orders/bulk",
        data={
            "csrf": csrf_of(page.text),
            "action": "macro",
            "macro_id": macro_id,
            "items": [f"{n}:1" for n in numbers],
        },
    )
    assert done.status_code == 200 and "成功 2 张，失败 0 张。" in done.text
    for n in numbers:
        assert client.get(f"/api/v1/work-orders/{n}", headers=w.agent_p.headers).json()["priority"] == "P2"
