"""/api/v1/notifications and /api/v1/me/notification-settings on SQLite and PostgreSQL: one's own
notifications only (another user's id is 404), newest first with a cursor, `unread` and `kind`
filters, marking read; hostile input is refused naming the field and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.services.access.tokens import create_api_token
from kefu.services.sla.timers import deliver_outbox
from tests.support.databases import Database
from tests.support.factories import Actor, make_actor, new_customer, new_work_order
from tests.support.kefus import make_kefu

HUGE = str(10**30)


@pytest.fixture(scope="module")
def told(database: Database, kefu: Kefu) -> Iterator[Kefu]:
    """kefu on the session database (seeded by `kefu`), without quiet hours (messages are delivered at once)."""
    k = make_kefu(database.url, quiet_hours="")
    yield k
    k.engine.dispose()


@pytest.fixture
def c(told: Kefu) -> Iterator[TestClient]:
    with TestClient(create_app(told), base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


def _mention(c: TestClient, k: Kefu, author: Actor, number: str, *whom: Actor) -> None:
    body = " ".join(f"@{w.username}" for w in whom) + " 请看一下"
    r = c.post(f"/api/v1/work-orders/{number}/notes", headers=author.headers, json={"body": body})
    assert r.status_code == 201, r.text
    while deliver_outbox(k.ctx):
        pass


def _mine(c: TestClient, who: Actor, **params: str) -> dict[str, Any]:
    r = c.get("/api/v1/notifications", headers=who.headers, params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def test_own_notifications_newest_first_filtered_paged_and_marked_read(c: TestClient, told: Kefu) -> None:
    author, me, other = (make_actor(told, Role.AGENT) for _ in range(3))
    number = new_work_order(c, author, new_customer(c, author)["id"])["number"]
    assert _mine(c, me) == {"items": [], "next_cursor": None, "unread": 0}
    for _ in range(3):
        _mention(c, told, author, number, me)
    _mention(c, told, author, number, other)

    page = _mine(c, me, limit="2")
    items = page["items"]
    assert isinstance(items, list) and len(items) == 2 and page["unread"] == 3 and page["next_cursor"]
    assert items[0]["id"] > items[1]["id"] and {n["kind"] for n in items} == {"mention"}
    assert items[0]["work_order"] == number and items[0]["read"] is False and items[0]["label"] == "Mentioned in a note"
    rest = _mine(c, me, limit="2", cursor=str(page["next_cursor"]))
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert not _mine(c, me, kind="assigned")["items"]
    assert len(_mine(c, me, kind="mention")["items"]) == 3

    # Another user's notification does not exist for me; mine is marked read.
    theirs = _mine(c, other)["items"][0]["id"]
    r = c.post(f"/api/v1/notifications/{theirs}/read", headers=me.headers)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert _mine(c, other)["unread"] == 1
    first = items[0]["id"]
    r = c.post(f"/api/v1/notifications/{first}/read", headers=me.headers)
    assert r.status_code == 200 and r.json()["read"] is True and r.json()["read_at"]
    assert _mine(c, me)["unread"] == 2
    assert first not in [n["id"] for n in _mine(c, me, unread="true")["items"]]
    assert c.post(f"/api/v1/notifications/{first}/read", headers=me.headers).status_code == 200  # again: still read

    r = c.post("/api/v1/notifications/read-all", headers=me.headers)
    assert r.status_code == 200 and r.json() == {"marked": 2}
    assert _mine(c, me)["unread"] == 0 and _mine(c, other)["unread"] == 1
    assert c.get("/api/v1/notifications").status_code == 401


def test_hostile_input_is_refused_naming_the_field(c: TestClient, told: Kefu) -> None:
    me = make_actor(told, Role.SUPERVISOR)
    h = me.headers
    for params, field in (
        ({"kind": "bogus"}, "kind"),
        ({"kind": "mention\x00"}, "kind"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 5000}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": HUGE}, "limit"),
        ({"unread": "perhaps"}, "unread"),
    ):
        r = c.get("/api/v1/notifications", headers=h, params=params)
        assert r.status_code == 422 and field in r.text, (params, r.text)
    for bad in ("0", "-1", HUGE, "abc", "%C2%B2"):
        r = c.post(f"/api/v1/notifications/{bad}/read", headers=h)
        assert r.status_code in (404, 422) and r.status_code != 500, (bad, r.text)
    assert c.post(f"/api/v1/notifications/{2**62}/read", headers=h).status_code == 404

    url = "/api/v1/me/notification-settings"
    for body, field in (
        ({"copies": {"mention": ["sms"]}, "phone": "13800\x00138000"}, "NUL"),  # every body refuses NUL
        ({"copies": {"mention": ["sms"]}, "phone": "not a phone"}, "phone"),
        ({"copies": {"mention": ["email"]}, "email": "no-at-sign"}, "email"),
        ({"copies": {"mention": ["email"]}, "email": "a\x00b@example.com"}, "NUL"),
        ({"copies": {"mention": ["email"]}, "email": "x" * 300 + "@example.com"}, "email"),
        ({"copies": {"bogus": ["email"]}}, "copies"),
        ({"copies": {"mention": ["pager"]}}, "copies"),
        ({"copies": {"mention": ["email"]}}, "email"),  # no address to send to
        ({"copies": {}, "surprise": 1}, "surprise"),
        ({"copies": {"mention": ["email"] * 1000}}, "copies"),
    ):
        r = c.put(url, headers=h, json=body)
        assert r.status_code == 422 and field in r.text, (body, r.text)
    r = c.put(url, headers=h, content=b"{" + b" " * 3_000_000 + b"}", params={})
    assert r.status_code in (413, 422)
    settings = c.get(url, headers=h).json()
    assert settings["email"] is None and settings["phone"] is None
    assert not any(row["channels"] for row in settings["copies"])

    # A read-only token reads but changes nothing.
    reader = create_api_token(told.ctx, me.username, name="只读", read_only=True).token
    ro = {"Authorization": f"Bearer {reader}"}
    assert c.get("/api/v1/notifications", headers=ro).status_code == 200
    assert c.post("/api/v1/notifications/read-all", headers=ro).status_code == 403
    assert c.put(url, headers=ro, json={"copies": {}}).status_code == 403


def test_settings_keep_remove_and_mask_the_addresses(c: TestClient, told: Kefu) -> None:
    me = make_actor(told, Role.SUPERVISOR)
    url = "/api/v1/me/notification-settings"
    r = c.put(
        url,
        headers=me.headers,
        json={"copies": {"sla_breached": ["sms"]}, "phone": "+86 138-0013-8000", "email": "duty@centre.example"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "138****8000" and r.json()["email"] == "d***@centre.example"
    # An administrator reading the user sees them masked too.
    admin = make_actor(told, Role.ADMIN)
    listed = c.get("/api/v1/users", headers=admin.headers)
    assert listed.status_code == 200 and "13800138000" not in listed.text and "duty@centre.example" not in listed.text
    row = next(u for u in listed.json() if u["id"] == me.id)
    assert row["phone"] == "138****8000" and row["email"] == "d***@centre.example"
    # Absent: kept; "": removed (a channel still chosen needs its address).
    r = c.put(url, headers=me.headers, json={"copies": {"sla_breached": ["sms"]}, "email": ""})
    assert r.status_code == 200 and r.json()["email"] is None and r.json()["phone"] == "138****8000"
    r = c.put(url, headers=me.headers, json={"copies": {"sla_breached": ["sms"]}, "phone": ""})
    assert r.status_code == 422 and "phone" in r.text
    labels = {
        row["kind"]: row["label"]
        for row in c.get(url, headers={**me.headers, "Accept-Language": "zh-CN"}).json()["copies"]
    }
    assert labels["sla_breached"] == "已超时" and labels["mention"] == "备注中@我"
