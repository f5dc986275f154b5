"""The bell and the notifications page through HTTP, on SQLite and PostgreSQL: the count on the bell
follows marking read; the list (newest first, by kind, unread only) links each to its work order;
Chinese empty states; another user's notification cannot be marked; copies chosen on My account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.org import Role
from kefu.services.sla.timers import deliver_outbox
from tests.support.databases import Database
from tests.support.factories import Actor, make_actor, new_customer, new_work_order
from tests.support.kefus import make_kefu
from tests.support.pages import csrf_of, login


@pytest.fixture(scope="module")
def told(database: Database, kefu: Kefu) -> Iterator[Kefu]:
    k = make_kefu(database.url, quiet_hours="")
    yield k
    k.engine.dispose()


@pytest.fixture(scope="module")
def told_app(told: Kefu) -> FastAPI:
    return create_app(told)


def _mentioned(api: TestClient, k: Kefu, author: Actor, me: Actor, times: int) -> str:
    number = str(new_work_order(api, author, new_customer(api, author)["id"])["number"])
    for _ in range(times):
        r = api.post(
            f"/api/v1/work-orders/{number}/notes", headers=author.headers, json={"body": f"@{me.username} 看看"}
        )
        assert r.status_code == 201, r.text
    while deliver_outbox(k.ctx):
        pass
    return number


def _bell(page: TestClient) -> int:
    r = page.get("/ui/notifications/bell")
    assert r.status_code == 200 and 'id="bell"' in r.text
    found = re.search(r'id="bell-count">(\d+)<', r.text)
    return int(found.group(1)) if found else 0


def test_the_bell_counts_down_as_notifications_are_read(told_app: FastAPI, told: Kefu) -> None:
    author, me = make_actor(told, Role.AGENT), make_actor(told, Role.AGENT)
    with TestClient(told_app, base_url="http://127.0.0.1") as page:
        login(page, me.username)
        empty = page.get("/ui/notifications")
        assert empty.status_code == 200 and "暂无通知" in empty.text
        assert _bell(page) == 0
        # Every staff page carries the bell, polled every 30 s.
        assert 'hx-get="/ui/notifications/bell"' in page.get("/ui/work-orders").text
        number = _mentioned(page, told, author, me, 3)
        assert _bell(page) == 3

        listing = page.get("/ui/notifications")
        assert listing.status_code == 200
        assert listing.text.count('class="notification unread"') == 3 and "备注中@我" in listing.text
        assert f">{number}</button>" in listing.text and "3 条未读" in listing.text
        # Each names its work order by its title too (read now, within the reader's scope).
        assert listing.text.count('<span class="n-title">宽带无法连接</span>') == 3
        first = int(re.findall(r'id="n-(\d+)"', listing.text)[0])
        ids = [int(i) for i in re.findall(r'id="n-(\d+)"', listing.text)]
        assert ids == sorted(ids, reverse=True)  # newest first

        r = page.post(
            f"/ui/notifications/{first}/read",
            data={"csrf": csrf_of(listing.text), "next": "/ui/notifications?unread=1"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/notifications?unread=1"
        assert _bell(page) == 2
        assert f'href="/ui/work-orders/{number}"' in page.get("/ui/notifications").text  # a read one: a plain link
        unread = page.get("/ui/notifications?unread=1")
        assert f'id="n-{first}"' not in unread.text and unread.text.count('class="notification unread"') == 2
        assert "没有符合筛选条件的通知" in page.get("/ui/notifications?kind=assigned").text

        # Opening one from the list marks it read and goes to its work order.
        second = ids[1]
        r = page.post(f"/ui/notifications/{second}/open", data={"csrf": csrf_of(listing.text)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/ui/work-orders/{number}"
        assert _bell(page) == 1

        r = page.post("/ui/notifications/read-all", data={"csrf": csrf_of(listing.text)}, follow_redirects=False)
        assert r.status_code == 303 and _bell(page) == 0
        assert 'class="notification unread"' not in page.get("/ui/notifications").text


def test_someone_elses_notification_bad_filters_and_no_csrf_are_refused(told_app: FastAPI, told: Kefu) -> None:
    author, me, other = (make_actor(told, Role.AGENT) for _ in range(3))
    with TestClient(told_app, base_url="http://127.0.0.1", raise_server_exceptions=False) as page:
        _mentioned(page, told, author, other, 1)
        _mentioned(page, told, author, me, 1)
        theirs = page.get("/api/v1/notifications", headers=other.headers).json()["items"][0]["id"]
        login(page, me.username)
        listing = page.get("/ui/notifications")
        r = page.post(f"/ui/notifications/{theirs}/read", data={"csrf": csrf_of(listing.text)})
        assert r.status_code == 404
        r = page.post(f"/ui/notifications/{theirs}/open", data={"csrf": csrf_of(listing.text)}, follow_redirects=False)
        assert r.status_code == 404
        assert page.get("/api/v1/notifications", headers=other.headers).json()["unread"] == 1
        mine = page.get("/api/v1/notifications", headers=me.headers).json()["items"]
        assert page.post("/ui/notifications/read-all", data={"csrf": "forged"}).status_code in (403, 422)
        assert len(mine) == 1 and page.get("/api/v1/notifications", headers=me.headers).json()["unread"] == 1
        for query in ("kind=bogus", "kind=%00", f"before={10**30}", "before=abc"):
            r = page.get(f"/ui/notifications?{query}")
            assert r.status_code == 422 and 'id="error"' in r.text, query
        for bad in ("0", str(10**30), "abc"):
            assert page.post(f"/ui/notifications/{bad}/read", data={"csrf": csrf_of(listing.text)}).status_code in (
                404,
                422,
            )
        # An address elsewhere is not followed after marking read.
        r = page.post(
            "/ui/notifications/read-all",
            data={"csrf": csrf_of(listing.text), "next": "https://evil.example/ui/notifications"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/notifications"
    with TestClient(told_app, base_url="http://127.0.0.1") as anonymous:
        r = anonymous.get("/ui/notifications/bell", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_copies_are_chosen_on_my_account(told_app: FastAPI, told: Kefu) -> None:
    me = make_actor(told, Role.SUPERVISOR)
    with TestClient(told_app, base_url="http://127.0.0.1", raise_server_exceptions=False) as page:
        login(page, me.username)
        tab = page.get("/ui/account/notifications")
        assert tab.status_code == 200 and "邮件和短信通知" in tab.text and 'id="copy-sla_breached-sms"' in tab.text
        csrf = csrf_of(tab.text)
        # SMS chosen without a number: refused on the page, nothing stored.
        r = page.post("/ui/account/notifications", data={"csrf": csrf, "copy": "sla_breached:sms"})
        assert r.status_code == 422 and "请填写接收通知短信的手机号码" in r.text
        r = page.post("/ui/account/notifications", data={"csrf": csrf, "copy": "sla_breached:pager"})
        assert r.status_code == 422 and 'id="error"' in r.text
        r = page.post(
            "/ui/account/notifications", data={"csrf": csrf, "copy": "sla_breached:sms", "phone": "1380\x000138000"}
        )
        assert r.status_code == 422
        assert not page.get("/api/v1/me/notification-settings", headers=me.headers).json()["phone"]
        r = page.post(
            "/ui/account/notifications",
            data={
                "csrf": csrf,
                "copy": ["sla_breached:sms", "dispatched:email"],
                "phone": "13800138000",
                "email": "on-call@centre.example",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/account/notifications?saved=1"
        saved = page.get("/ui/account/notifications?saved=1")
        assert "已保存" in saved.text and "138****8000" in saved.text and "13800138000" not in saved.text
        assert re.search(r'id="copy-sla_breached-sms"[^>]*checked', saved.text)
        assert not re.search(r'id="copy-mention-sms"[^>]*checked', saved.text)
        # Blank keeps the number; "remove" forgets it (and then SMS cannot stay chosen).
        r = page.post(
            "/ui/account/notifications", data={"csrf": csrf, "copy": "dispatched:email"}, follow_redirects=False
        )
        assert r.status_code == 303 and "138****8000" in page.get("/ui/account/notifications").text
        r = page.post(
            "/ui/account/notifications",
            data={"csrf": csrf, "copy": "dispatched:email", "forget_phone": "1"},
            follow_redirects=False,
        )
        assert (
            r.status_code == 303
            and page.get("/api/v1/me/notification-settings", headers=me.headers).json()["phone"] is None
        )


def test_the_bells_polling_keeps_no_idle_session_alive_and_stops_when_it_ends(database: Database, kefu: Kefu) -> None:
    clock = FixedClock(datetime.now(UTC))
    k = make_kefu(database.url, clock=clock, session_idle_minutes=30, quiet_hours="")
    agent = make_actor(k, Role.AGENT)
    poll = {"HX-Request": "true"}
    with TestClient(create_app(k), base_url="http://127.0.0.1") as user:
        login(user, agent.username)
        for _ in range(3):  # the tab stays open: the bell asks every few minutes, nobody clicks
            clock.advance(timedelta(minutes=9))
            assert user.get("/ui/notifications/bell", headers=poll).status_code == 200
        # 31 minutes without a request of the user's own: the session has ended.
        clock.advance(timedelta(minutes=4))
        r = user.get("/ui/notifications/bell", headers=poll, follow_redirects=False)
        assert r.status_code == 286 and not r.text  # HTMX stops polling; no login page in the top bar
        assert user.get("/ui/work-orders", follow_redirects=False).status_code == 303
    k.engine.dispose()
