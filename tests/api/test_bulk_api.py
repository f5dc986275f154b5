"""Bulk actions through the API, on SQLite and PostgreSQL: each work order its own use case, with a
result per work order (done; or not found / out of scope, not allowed in its state, changed since
it was selected), duplicates counted once, and the request refused as a whole for bad input."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import make_actor, new_customer, new_work_order
from tests.support.provinces import Provinces, two_provinces

URL = "/api/v1/work-orders/bulk"


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        w = two_provinces(client, kefu)
        client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": True})
        yield w


def test_bulk_tag_reports_each_work_order(client: TestClient, world: Provinces) -> None:
    w, tag = world, f"批量{secrets.token_hex(2)}"
    mine = [w.work_order(client) for _ in range(3)]
    theirs = str(new_work_order(client, w.agent_q, int(new_customer(client, w.agent_q)["id"]))["number"])
    items = [{"number": n} for n in mine] + [
        {"number": mine[0]},
        {"number": "GD20200101000001"},
        {"number": "nonsense\x01"},
        {"number": theirs},
    ]
    r = client.post(URL, headers=w.agent_p.headers, json={"action": "tag", "items": items, "params": {"add": [tag]}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["succeeded"], body["failed"]) == (3, 3)
    by_number = {i["number"]: i for i in body["items"]}
    assert [i["number"] for i in body["items"]][:3] == mine  # in the order given, the duplicate once
    assert all(by_number[n]["ok"] and by_number[n]["version"] for n in mine)
    assert by_number["GD20200101000001"]["status"] == 404 and by_number[theirs]["status"] == 404
    assert not by_number[theirs]["ok"] and "detail" in by_number[theirs]
    found = client.get("/api/v1/work-orders", headers=w.agent_p.headers, params={"tag": tag}).json()["items"]
    assert sorted(x["number"] for x in found) == sorted(mine)
    # The other province's work order is untouched (its own agent sees no tag on it).
    assert client.get(f"/api/v1/work-orders/{theirs}/tags", headers=w.agent_q.headers).json()["tags"] == []
    # Tagged again: each says it has the tag already; nothing is changed.
    again = client.post(
        URL, headers=w.agent_p.headers, json={"action": "tag", "items": items[:3], "params": {"add": [tag]}}
    )
    assert again.json()["succeeded"] == 0 and {i["status"] for i in again.json()["items"]} == {422}


def test_bulk_move_one_failure_undoes_nothing_else(client: TestClient, world: Provinces) -> None:
    w = world
    a, b, c = (w.work_order(client) for _ in range(3))
    stale = client.get(f"/api/v1/work-orders/{c}", headers=w.agent_p.headers).json()["version"]
    # b moves on first: "accepted" is no longer a move it can make; c changes after it was selected.
    assert (
        client.post(
            f"/api/v1/work-orders/{b}/transitions", headers=w.agent_p.headers, json={"to": "accepted"}
        ).status_code
        == 200
    )
    assert (
        client.post(f"/api/v1/work-orders/{c}/priority", headers=w.agent_p.headers, json={"priority": "P1"}).status_code
        == 200
    )
    r = client.post(
        URL,
        headers=w.agent_p.headers,
        json={
            "action": "move",
            "items": [{"number": a}, {"number": b}, {"number": c, "version": stale}],
            "params": {"to": "accepted"},
        },
    )
    items = {i["number"]: i for i in r.json()["items"]}
    assert items[a]["ok"] and (items[b]["status"], items[b]["code"]) == (409, "invalid_transition")
    assert (items[c]["status"], items[c]["code"]) == (409, "concurrent_update")
    statuses = {
        n: client.get(f"/api/v1/work-orders/{n}", headers=w.agent_p.headers).json()["status"] for n in (a, b, c)
    }
    assert statuses == {a: "accepted", b: "accepted", c: "new"}


def test_bulk_assign_to_a_team_and_a_person(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    a, b = w.work_order(client), w.work_order(client)
    r = client.post(
        URL,
        headers=w.supervisor_p.headers,
        json={"action": "assign", "items": [{"number": a}, {"number": b}], "params": {"team_id": w.team_p}},
    )
    assert r.json()["succeeded"] == 2
    # A team of another province is no team of theirs: each item says so.
    r = client.post(
        URL,
        headers=w.supervisor_p.headers,
        json={"action": "assign", "items": [{"number": a}], "params": {"team_id": w.team_q}},
    )
    assert r.json()["items"][0]["status"] == 422 and not r.json()["items"][0]["ok"]
    history = client.get(f"/api/v1/work-orders/{a}/history", headers=w.agent_p.headers).json()["events"]
    assert [e["data"]["team_id"] for e in history if e["kind"] == "handler_changed"] == [w.team_p]


def test_bulk_refuses_the_whole_request_for_bad_input(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    number = w.work_order(client)
    one = [{"number": number}]
    cases = [
        {"action": "tag", "items": [{"number": f"GD20261130{i:06d}"} for i in range(10_000)], "params": {"add": ["x"]}},
        {"action": "tag", "items": [{"number": f"GD20261130{i:06d}"} for i in range(201)], "params": {"add": ["x"]}},
        {"action": "tag", "items": [], "params": {"add": ["x"]}},
        {"action": "macro", "items": one, "params": {}},
        {"action": "tag", "items": one, "params": {"add": ["a\x00"]}},
        {"action": "tag", "items": one, "params": {"add": ["x"] * 5000}},
        {"action": "tag", "items": one, "params": {"add": "x"}},
        {"action": "move", "items": one, "params": {"to": "flying"}},
        {"action": "assign", "items": one, "params": {}},
        {"action": "assign", "items": one, "params": {"team_id": 2**64}},
        {"action": "assign", "items": one, "params": {"team_id": "1"}},
        {"action": "tag", "items": [{"number": number, "version": 0}], "params": {"add": ["x"]}},
        {"action": "tag", "items": [{"number": "x" * 41}], "params": {"add": ["x"]}},
    ]
    for body in cases:
        r = client.post(URL, headers=w.agent_p.headers, json=body)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (
            str(body)[:80],
            r.text[:300],
        )
        assert r.json().get("errors"), r.text
    assert client.get(f"/api/v1/work-orders/{number}/tags", headers=w.agent_p.headers).json()["tags"] == []
    # A role without the permission is refused before anything is done; no token: 401.
    quality = make_actor(kefu, Role.QUALITY, w.team_p)
    assert (
        client.post(
            URL, headers=quality.headers, json={"action": "tag", "items": one, "params": {"add": ["x"]}}
        ).status_code
        == 403
    )
    assert client.post(URL, json={"action": "tag", "items": one, "params": {"add": ["x"]}}).status_code == 401
