"""Data scope (R14, R15, R29) for every role, through HTTP on SQLite and PostgreSQL: list, search,
detail, history, dispatches and export all show the same work orders; a vendor sees only what was
dispatched to it, with personal data masked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import (
    UNMASK,
    Actor,
    make_actor,
    new_customer,
    new_organisation,
    new_team,
    new_work_order,
    unique_phone,
)


@dataclass
class World:
    numbers: dict[str, str]  # owner org -> work-order number
    customers: dict[str, int]
    phones: dict[str, str]
    actors: dict[str, Actor]  # "<org>:<role>" -> actor


def _case(client: TestClient, actor: Actor, tag: str) -> tuple[str, int, str]:
    phone = unique_phone()
    customer = new_customer(
        client,
        actor,
        name=f"客户{tag}",
        phone=phone,
        region="测试",
        address="广东省广州市越秀区中山五路9号",
        id_number="11010519491231002X",
    )
    wo = new_work_order(client, actor, customer["id"], fault_place="广州市越秀区中山五路9号")
    return str(wo["number"]), int(customer["id"]), phone  # the answer masks the phone


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[World]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        admin = make_actor(kefu, Role.ADMIN)
        hq = new_organisation(client, admin, "集团", "headquarters")
        p = new_organisation(client, admin, "甲省", "province", hq)
        c = new_organisation(client, admin, "甲省乙市", "city", p)
        q = new_organisation(client, admin, "丙省", "province", hq)
        v = new_organisation(client, admin, "厂商", "vendor")
        teams = {
            name: new_team(client, admin, o, f"组-{name}", "tech_support")
            for name, o in {"hq": hq, "p": p, "c": c, "q": q, "v": v}.items()
        }
        actors = {"admin": admin, "auditor": make_actor(kefu, Role.AUDITOR)}
        for role in (Role.AGENT, Role.TECH_SUPPORT, Role.FIELD_ENGINEER, Role.QUALITY, Role.SUPERVISOR):
            actors[f"p:{role.value}"] = make_actor(kefu, role, teams["p"])
        for name in ("hq", "c", "q"):
            actors[f"{name}:agent"] = make_actor(kefu, Role.AGENT if name != "hq" else Role.SUPERVISOR, teams[name])
        actors["v:agent"] = make_actor(kefu, Role.AGENT, teams["v"])
        actors["v:field_engineer"] = make_actor(kefu, Role.FIELD_ENGINEER, teams["v"])
        numbers, customers, phones = {}, {}, {}
        for name in ("p", "c", "q"):
            owner = actors["p:agent"] if name == "p" else actors[f"{name}:agent"]
            numbers[name], customers[name], phones[name] = _case(client, owner, name)
        r = client.post(
            f"/api/v1/work-orders/{numbers['q']}/dispatches",
            headers=actors["q:agent"].headers,
            json={"to_team_id": teams["v"], "instruction": "请厂商检测终端"},
        )
        assert r.status_code == 201, r.text
        yield World(numbers, customers, phones, actors)


ALL = {"p", "c", "q"}
#: Who sees which of the three work orders (owned by province p, its city c, province q -> vendor).
EXPECTED = {
    "admin": ALL,
    "auditor": ALL,
    "hq:agent": ALL,
    **{f"p:{r}": {"p", "c"} for r in ("agent", "tech_support", "field_engineer", "quality", "supervisor")},
    "c:agent": {"c"},
    "q:agent": {"q"},
    "v:agent": {"q"},
    "v:field_engineer": {"q"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_every_read_shows_the_same_scope(client: TestClient, world: World, who: str) -> None:
    actor = world.actors[who]
    mine = {v: k for k, v in world.numbers.items()}
    expected = EXPECTED[who]

    listed = client.get("/api/v1/work-orders", headers=actor.headers, params={"limit": 200}).json()["items"]
    assert {mine[w["number"]] for w in listed if w["number"] in mine} == expected
    for name, number in world.numbers.items():
        codes = {
            client.get(f"/api/v1/work-orders/{number}{path}", headers=actor.headers).status_code
            for path in ("", "/history", "/dispatches", "/visits", "/checklist")
        }
        assert codes == ({200} if name in expected else {404}), (name, codes)
        # Search: the list filtered by the customer.
        found = client.get(
            "/api/v1/work-orders", headers=actor.headers, params={"customer": world.customers[name]}
        ).json()["items"]
        assert [w["number"] for w in found] == ([number] if name in expected else [])
    exported = client.get("/api/v1/work-orders/export", headers=actor.headers, params={"max_rows": 100000})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert {mine[r["number"]] for r in rows if r["number"] in mine} == expected


@pytest.mark.parametrize("who", ["v:agent", "v:field_engineer"])
def test_a_vendor_sees_personal_data_masked_whatever_its_role(client: TestClient, world: World, who: str) -> None:
    actor = world.actors[who]
    number, cid, phone = world.numbers["q"], world.customers["q"], world.phones["q"]
    detail = client.get(f"/api/v1/work-orders/{number}", headers=actor.headers).json()
    assert "*" in detail["fault_place"] and "中山五路9号" not in detail["fault_place"]
    customer = client.get(f"/api/v1/customers/{cid}", headers=actor.headers).json()
    assert customer["phone"] == f"{phone[:3]}****{phone[-4:]}" and "*" in customer["id_number"]
    r = client.get(f"/api/v1/customers/{cid}", headers=actor.headers, params=UNMASK)
    assert r.status_code == 403
    # Customers of work orders outside its scope do not exist for it; partial searches are refused.
    assert client.get(f"/api/v1/customers/{world.customers['p']}", headers=actor.headers).status_code == 404
    r = client.get("/api/v1/customers", headers=actor.headers, params={"phone": phone[:7]})
    assert r.status_code == 422
    r = client.get("/api/v1/customers", headers=actor.headers, params={"phone": phone})
    assert [c["id"] for c in r.json()["items"]] == [cid]
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/api/v1/work-orders/export", headers=actor.headers).text.lstrip("\ufeff"))
        )
    )
    assert all("中山五路9号" not in r["fault_place"] for r in rows)


def test_the_operators_engineer_may_unmask_and_it_is_logged(client: TestClient, world: World, kefu: Kefu) -> None:
    from sqlalchemy import text

    actor = world.actors["p:field_engineer"]
    r = client.get(f"/api/v1/customers/{world.customers['p']}", headers=actor.headers, params=UNMASK)
    assert r.status_code == 200 and r.json()["phone"] == world.phones["p"]
    with kefu.engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE actor_id = :u AND customer_id = :c "
                "AND action = 'personal_data.unmasked'"
            ),
            {"u": actor.id, "c": world.customers["p"]},
        ).scalar_one()
    assert logged == 1


def test_a_caller_of_another_province_is_registered_by_their_number_on_the_page(
    client: TestClient, world: World
) -> None:
    """Province q's agent takes a call from province p's customer (R15): the registration form finds
    only the caller card by the whole number, and registers with it; without the number, no customer."""
    from tests.support.pages import csrf_of, login, register_form

    actor, cid, phone = world.actors["q:agent"], world.customers["p"], world.phones["p"]
    login(client, actor.username)
    found = client.get("/ui/customers/lookup", params={"phone": phone}).text
    assert f'data-customer-id="{cid}"' in found and "测试" not in found  # the card: no region
    assert f'data-customer-id="{cid}"' not in client.get("/ui/customers/lookup", params={"phone": phone[:7]}).text
    csrf = csrf_of(client.get("/ui/work-orders/new").text)
    assert client.post("/ui/work-orders", data=register_form(csrf, cid), follow_redirects=False).status_code == 404
    r = client.post("/ui/work-orders", data=register_form(csrf, cid, phone=phone), follow_redirects=False)
    assert r.status_code == 303
    detail = client.get(r.headers["location"]).text
    assert phone not in detail and f"{phone[:3]}****{phone[-4:]}" in detail
    assert world.numbers["p"] not in detail  # the customer's work orders of province p stay out of sight
