"""Macros through the API, on SQLite and PostgreSQL: kept by supervisors within their subtree, applied
by agents in one transaction (all actions or none), offered only to the organisation and those below
it, applied in bulk with a result per work order, and hostile input refused naming the field."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.audit import AuditAction, AuditFilter
from kefu.domain.org import Role
from kefu.services.audit import read_audit_log
from tests.support.factories import Json, new_user
from tests.support.provinces import Provinces, two_provinces


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        w = two_provinces(client, kefu)
        # Free tags in P, so a macro may add any tag there.
        r = client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": True})
        assert r.status_code == 204, r.text
        yield w


def _macro(w: Provinces, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"转处理{secrets.token_hex(3)}",
        "organisation_id": w.p,
        "priority": "P1",
        "tags": ["加急"],
        "note": "按宏处理：已提升优先级",
        "status": "accepted",
    }
    body.update(over)
    return body


def create(client: TestClient, w: Provinces, **over: Any) -> Json:
    r = client.post("/api/v1/macros", headers=w.supervisor_p.headers, json=_macro(w, **over))
    assert r.status_code == 201, r.text
    made: Json = r.json()
    return made


def _work_order(client: TestClient, w: Provinces, number: str) -> Json:
    r = client.get(f"/api/v1/work-orders/{number}", headers=w.agent_p.headers)
    assert r.status_code == 200, r.text
    found: Json = r.json()
    return found


def _history(client: TestClient, w: Provinces, number: str) -> list[Json]:
    r = client.get(f"/api/v1/work-orders/{number}/history", headers=w.agent_p.headers)
    assert r.status_code == 200, r.text
    events: list[Json] = r.json()["events"]
    return events


def test_a_macro_does_all_its_actions_in_one_click(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    macro = create(client, w)
    assert macro["actions"] == ["tags", "priority", "note", "status"]
    number = w.work_order(client, priority="P3")
    usable = client.get("/api/v1/macros", headers=w.agent_p.headers, params={"usable": "true"}).json()
    assert macro["id"] in [m["id"] for m in usable] and not any(m["may_change"] for m in usable)
    version = _work_order(client, w, number)["version"]
    r = client.post(
        f"/api/v1/work-orders/{number}/macro",
        headers={**w.agent_p.headers, "If-Match": f'"{version}"'},
        json={"macro_id": macro["id"]},
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["priority"] == "P1" and after["status"] == "accepted" and r.headers["ETag"]
    tags = client.get(f"/api/v1/work-orders/{number}/tags", headers=w.agent_p.headers).json()
    assert "加急" in tags["tags"]
    kinds = [e["kind"] for e in _history(client, w, number)]
    applied = kinds.index("macro_applied")
    for kind in ("tags_changed", "priority_changed", "note_added", "status_changed"):
        assert kind in kinds[applied:], kinds
    # Kept as a setting change, like routing rules.
    flt = AuditFilter(actions=(AuditAction.SETTING_CHANGED,), subject_type="macro")
    rows = read_audit_log(kefu.ctx, new_user(kefu, Role.ADMIN), flt).records
    assert macro["name"] in [r.entry.subject_id for r in rows]


def test_one_refused_action_undoes_them_all(client: TestClient, world: Provinces) -> None:
    w = world
    # A new work order cannot be closed: the move is refused, and the priority and tags stay as they were.
    macro = create(client, w, status="closed", tags=["不该留下"])
    number = w.work_order(client, priority="P3")
    before = _work_order(client, w, number)
    r = client.post(f"/api/v1/work-orders/{number}/macro", headers=w.agent_p.headers, json={"macro_id": macro["id"]})
    assert r.status_code == 409, r.text
    after = _work_order(client, w, number)
    assert (after["priority"], after["status"], after["version"]) == ("P3", "new", before["version"])
    assert "不该留下" not in client.get(f"/api/v1/work-orders/{number}/tags", headers=w.agent_p.headers).json()["tags"]
    assert "macro_applied" not in [e["kind"] for e in _history(client, w, number)]


def test_a_stale_screen_applies_nothing(client: TestClient, world: Provinces) -> None:
    w = world
    macro = create(client, w)
    number = w.work_order(client)
    version = _work_order(client, w, number)["version"]
    r = client.post(
        f"/api/v1/work-orders/{number}/macro",
        headers={**w.agent_p.headers, "If-Match": f'"{version + 7}"'},
        json={"macro_id": macro["id"]},
    )
    assert r.status_code in (409, 412)
    assert _work_order(client, w, number)["version"] == version


def test_macros_stay_in_their_subtree(client: TestClient, world: Provinces) -> None:
    w = world
    macro = create(client, w)
    number = w.work_order(client)
    # The sibling province neither sees, changes nor applies P's macro.
    assert macro["id"] not in [m["id"] for m in client.get("/api/v1/macros", headers=w.agent_q.headers).json()]
    assert macro["id"] not in [m["id"] for m in client.get("/api/v1/macros", headers=w.supervisor_q.headers).json()]
    put = client.put(f"/api/v1/macros/{macro['id']}", headers=w.supervisor_q.headers, json=_macro(w))
    assert put.status_code == 404
    # Q's supervisor cannot make one for P; an agent makes none.
    assert client.post("/api/v1/macros", headers=w.supervisor_q.headers, json=_macro(w)).status_code == 403
    assert client.post("/api/v1/macros", headers=w.agent_p.headers, json=_macro(w)).status_code == 403
    # Q's own macro is not P's to apply; P's work order is not Q's to change.
    theirs = client.post("/api/v1/macros", headers=w.supervisor_q.headers, json=_macro(w, organisation_id=w.q, tags=[]))
    assert theirs.status_code == 201, theirs.text
    applied = client.post(
        f"/api/v1/work-orders/{number}/macro", headers=w.agent_p.headers, json={"macro_id": theirs.json()["id"]}
    )
    assert applied.status_code == 404
    reach = client.post(
        f"/api/v1/work-orders/{number}/macro", headers=w.agent_q.headers, json={"macro_id": theirs.json()["id"]}
    )
    assert reach.status_code == 404


def test_a_switched_off_macro_is_no_longer_offered(client: TestClient, world: Provinces) -> None:
    w = world
    macro = create(client, w)
    off = client.put(f"/api/v1/macros/{macro['id']}", headers=w.supervisor_p.headers, json=_macro(w, active=False))
    assert off.status_code == 200, off.text
    usable = client.get("/api/v1/macros", headers=w.agent_p.headers, params={"usable": "true"}).json()
    assert macro["id"] not in [m["id"] for m in usable]
    number = w.work_order(client)
    r = client.post(f"/api/v1/work-orders/{number}/macro", headers=w.agent_p.headers, json={"macro_id": macro["id"]})
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"tags": ["a", "a"]}, "tags"),
        ({"status": "dispatched"}, "status"),
        ({"status": "nowhere"}, "status"),
        ({"priority": "P9"}, "priority"),
        ({"team_id": 2**63}, "team_id"),
        ({"team_id": 987654321}, "team_id"),
        ({"organisation_id": 0}, "organisation_id"),
        ({"note": "n" * 2001}, "note"),
        ({"reply_template": "reply.does-not-exist"}, "reply_template"),
        ({"priority": None, "tags": [], "note": None, "status": None}, "actions"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_macros_are_refused_naming_the_field(
    client: TestClient, world: Provinces, over: dict[str, Any], field: str
) -> None:
    w = world
    body = _macro(w, **over)
    r = client.post("/api/v1/macros", headers=w.supervisor_p.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e.get("field") for e in r.json()["errors"]], r.json()
    assert body["name"] not in [m["name"] for m in client.get("/api/v1/macros", headers=w.supervisor_p.headers).json()]


def test_a_nul_anywhere_is_refused(client: TestClient, world: Provinces) -> None:
    w = world
    r = client.post("/api/v1/macros", headers=w.supervisor_p.headers, json=_macro(w, note="a\x00b"))
    assert r.status_code == 422
    number = w.work_order(client)
    for bad in ({"macro_id": 0}, {"macro_id": 2**63}, {"macro_id": "一"}, {"macro_id": None}, {}):
        r = client.post(f"/api/v1/work-orders/{number}/macro", headers=w.agent_p.headers, json=bad)
        assert r.status_code == 422, (bad, r.text)


def test_a_macro_applied_in_bulk_says_how_each_went(client: TestClient, world: Provinces) -> None:
    w = world
    macro = create(client, w, status=None, note=None)
    numbers = [w.work_order(client, priority="P3") for _ in range(3)]
    stale = _work_order(client, w, numbers[2])["version"] + 3
    items = [{"number": numbers[0]}, {"number": numbers[1]}, {"number": numbers[2], "version": stale}]
    r = client.post(
        "/api/v1/work-orders/bulk",
        headers=w.agent_p.headers,
        json={"action": "macro", "items": items, "params": {"macro_id": macro["id"]}},
    )
    assert r.status_code == 200, r.text
    results = {x["number"]: x for x in r.json()["items"]}
    assert results[numbers[0]]["ok"] and results[numbers[1]]["ok"] and not results[numbers[2]]["ok"]
    assert [_work_order(client, w, n)["priority"] for n in numbers] == ["P1", "P1", "P3"]
    bad = client.post(
        "/api/v1/work-orders/bulk", headers=w.agent_p.headers, json={"action": "macro", "items": items, "params": {}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "macro_id"


def test_a_macro_answers_the_customer_with_its_canned_reply(client: TestClient, world: Provinces) -> None:
    w = world
    macro = create(client, w, reply_template="reply.working_on_it", tags=[], note=None)
    assert macro["actions"] == ["reply", "priority", "status"]
    number = w.work_order(client)
    r = client.post(f"/api/v1/work-orders/{number}/macro", headers=w.agent_p.headers, json={"macro_id": macro["id"]})
    assert r.status_code == 200, r.text
    found = client.get(f"/api/v1/work-orders/{number}/replies", headers=w.agent_p.headers).json()["replies"]
    assert [(x["canned"], x["state"]) for x in found] == [("reply.working_on_it", "queued")]
    assert number in found[0]["body"] and "{" not in found[0]["body"]
    kinds = [e["kind"] for e in _history(client, w, number)]
    assert kinds.index("macro_applied") < kinds.index("reply_queued") < len(kinds)
    # A vendor or another province never reaches it; the macro's reply is refused for no work order it cannot see.
    reach = client.post(
        f"/api/v1/work-orders/{number}/macro", headers=w.agent_q.headers, json={"macro_id": macro["id"]}
    )
    assert reach.status_code == 404
