"""The portal never reveals or joins a work order without the customer's verified code: an
anonymous submission carrying someone else's phone number opens a new work order (it never
threads into theirs, nor shows its number), and submissions and code requests are rate-limited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.databases import Database
from tests.support.factories import make_actor, new_customer, new_work_order, unique_phone
from tests.support.kefus import own_kefu
from tests.support.pages import csrf_of, field_of


@pytest.fixture(scope="module")
def portal_kefu(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kefu]:
    limits = {"portal.submit.phone": "3/hour", "portal.code.number": "2/hour", "portal.submit.address": "50/hour"}
    with own_kefu(database.backend, tmp_path_factory.mktemp("portal"), "kefu_portal", rate_limits=limits) as k:
        yield k


def post_request(c: TestClient, phone: str, text: str) -> Response:
    home = c.get("/portal")
    form = {"name": "陌生人", "phone": phone, "type": "fault", "category": "broadband.no_connection"}
    r: Response = c.post("/portal/requests", data=form | {"csrf": csrf_of(home.text), "description": text})
    return r


def submit(c: TestClient, phone: str, text: str) -> str:
    r = post_request(c, phone, text)
    assert r.status_code == 200, r.text
    return str(r.text)


def test_someone_elses_phone_opens_a_new_work_order_and_shows_nothing_of_theirs(portal_kefu: Kefu) -> None:
    with TestClient(create_app(portal_kefu), base_url="http://127.0.0.1") as c:
        agent = make_actor(portal_kefu, Role.AGENT)
        phone = unique_phone()
        victim = new_customer(c, agent, name="李女士", phone=phone)
        theirs = new_work_order(c, agent, victim["id"], category="broadband.no_connection")["number"]
        page = submit(c, phone, "宽带又断了，请尽快处理")
        mine = field_of(page, r'id="number">(GD\d{14})<')
        assert mine != theirs and theirs not in page and "李女士" not in page
        history = c.get(f"/api/v1/work-orders/{theirs}/history", headers=agent.headers).json()
        assert "宽带又断了" not in str(history)  # nothing joined their work order


def test_submissions_and_code_requests_are_rate_limited(portal_kefu: Kefu) -> None:
    with TestClient(create_app(portal_kefu), base_url="http://127.0.0.1") as c:
        phone = unique_phone()
        for n in range(3):
            submit(c, phone, f"第{n}次：电视没有信号")
        r = post_request(c, phone, "又没有信号")
        assert r.status_code == 429 and "尝试次数过多" in r.text and int(r.headers["Retry-After"]) >= 1
        home = c.get("/portal")
        number = "GD20261130000001"
        answers = [
            c.post("/portal/track", data={"csrf": csrf_of(home.text), "number": number, "phone": unique_phone()})
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]  # matching or not: the same limit
