"""The work-order API through HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from httpx import Response

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, Json, make_actor, new_work_order, work_order_body

PROBLEM = "application/problem+json"


def move(client: TestClient, actor: Actor, number: str, to: str, note: str | None = None, **headers: str) -> Response:
    response: Response = client.post(
        f"/api/v1/work-orders/{number}/transitions", headers={**actor.headers, **headers}, json={"to": to, "note": note}
    )
    return response


def test_create_then_read_back(client: TestClient, agent: Actor, customer: Json) -> None:
    wo = new_work_order(client, agent, customer["id"], severity=2, fault_place="天河区", device="光猫 HG8245")
    assert wo["number"].startswith("GD") and len(wo["number"]) == 16
    assert (wo["status"], wo["tmf_status"], wo["priority"], wo["owner_id"]) == ("new", "acknowledged", "P2", agent.id)
    assert wo["allowed_transitions"] == ["accepted", "rejected", "cancelled"]
    r = client.get(f"/api/v1/work-orders/{wo['number']}", headers=agent.headers)
    detail = r.json()
    clocks = {c["name"]: c for c in detail.pop("clocks")}
    assert detail.pop("customer_rating") is None  # not rated yet
    assert r.status_code == 200 and detail == wo and r.headers["etag"] == '"1"'
    # Severity 2 on broadband: the level-2 network fault policy, 8 hours to resolve, 30 min to respond.
    assert clocks["resolution"]["target_minutes"] == 480 and clocks["resolution"]["state"] == "running"
    assert clocks["first_response"]["target_minutes"] == 30 and clocks["hop"]["state"] == "not_started"


def test_numbers_follow_the_daily_sequence(client: TestClient, agent: Actor, customer: Json) -> None:
    a = new_work_order(client, agent, customer["id"])
    b = new_work_order(client, agent, customer["id"])
    assert a["number"][:10] == b["number"][:10]
    assert int(b["number"][10:]) == int(a["number"][10:]) + 1


def test_full_lifecycle_and_timeline(client: TestClient, agent: Actor, customer: Json, kefu: Kefu) -> None:
    number = new_work_order(client, agent, customer["id"])["number"]
    tech = make_actor(kefu, Role.TECH_SUPPORT)
    for actor, to in [
        (agent, "accepted"),
        (tech, "in_progress"),
        (tech, "pending"),
        (tech, "in_progress"),
        (tech, "resolved"),
        (agent, "callback"),
        (agent, "closed"),
    ]:
        r = move(client, actor, number, to, note=f"step {to}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to
    body = client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()
    assert body["owner_id"] == agent.id  # first-ask owner stays, whoever else worked on it
    assert body["tmf_status"] == "closed" and body["closed_at"] and body["version"] == 8
    r = client.post(
        f"/api/v1/work-orders/{number}/notes",
        headers=tech.headers,
        json={"body": "客户确认已恢复", "customer_visible": True},
    )
    assert r.status_code == 201 and r.json()["visibility"] == "customer"
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    assert [e["kind"] for e in history] == ["created"] + ["status_changed"] * 7 + ["note_added"]
    assert history[0]["data"]["sla"]["targets"]["resolution"] == 48 * 60  # broadband line fault: 48 h
    moves = history[1:8]
    assert [e["to_status"] for e in moves] == [
        "accepted",
        "in_progress",
        "pending",
        "in_progress",
        "resolved",
        "callback",
        "closed",
    ]
    assert moves[1]["actor"]["username"] == tech.username and moves[1]["note"] == "step in_progress"
    assert history[8]["note"] == "客户确认已恢复"


def test_illegal_transition_is_409_naming_the_allowed_moves(client: TestClient, agent: Actor, customer: Json) -> None:
    number = new_work_order(client, agent, customer["id"])["number"]
    r = move(client, agent, number, "closed")
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    p = r.json()
    assert p["code"] == "invalid_transition" and p["allowed"] == ["accepted", "rejected", "cancelled"]
    assert "accepted, rejected, cancelled" in p["detail"]
    assert client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["status"] == "new"


def test_stale_if_match_is_409_and_changes_nothing(client: TestClient, agent: Actor, customer: Json) -> None:
    number = new_work_order(client, agent, customer["id"])["number"]
    assert move(client, agent, number, "accepted", **{"If-Match": '"1"'}).status_code == 200
    r = move(client, agent, number, "cancelled", "客户撤销", **{"If-Match": '"1"'})
    assert r.status_code == 409 and r.json()["code"] == "concurrent_update"
    assert client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["status"] == "accepted"
    assert move(client, agent, number, "in_progress", **{"If-Match": "garbage"}).status_code == 422


def test_idempotency_key_returns_the_same_work_order(client: TestClient, agent: Actor, customer: Json) -> None:
    key = str(uuid.uuid4())
    headers = {**agent.headers, "Idempotency-Key": key}
    body = work_order_body(customer["id"])
    first = client.post("/api/v1/work-orders", headers=headers, json=body)
    again = client.post("/api/v1/work-orders", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"] and again.headers["idempotent-replayed"] == "true"
    listed = client.get("/api/v1/work-orders", headers=agent.headers, params={"customer": customer["id"]}).json()
    assert [w["number"] for w in listed["items"]] == [first.json()["number"]]
    other = client.post("/api/v1/work-orders", headers=headers, json={**body, "title": "另一件事"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_bad_input_is_4xx_naming_the_field_and_stores_nothing(client: TestClient, agent: Actor, customer: Json) -> None:
    cid = customer["id"]
    cases = [
        (work_order_body(cid, category="broadband.nope"), 422, "category"),
        (work_order_body(cid, category="Not A Code"), 422, "category"),
        (work_order_body(cid, type="inquiry", severity=2), 422, "severity"),
        (work_order_body(cid, type="wish"), 422, "type"),
        (work_order_body(cid, priority="P9"), 422, "priority"),
        (work_order_body(cid, fault_time="2026-11-01T10:00:00"), 422, "fault_time"),
        (work_order_body(cid, colour="red"), 422, "colour"),
        ({"type": "fault"}, 422, "customer_id"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/work-orders", headers=agent.headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == PROBLEM
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    # A customer id that names nobody the agent may see: as if there were no such customer.
    r = client.post("/api/v1/work-orders", headers=agent.headers, json=work_order_body(999_999_999))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.post(
        "/api/v1/work-orders",
        headers={**agent.headers, "Content-Type": "application/json"},
        content=b'{"customer_id": ',
    )
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    listed = client.get("/api/v1/work-orders", headers=agent.headers, params={"customer": cid}).json()
    assert listed["items"] == []


def test_every_route_but_healthz_needs_a_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    for method, path in [
        ("GET", "/api/v1/work-orders"),
        ("POST", "/api/v1/work-orders"),
        ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/categories"),
        ("GET", "/api/v1/me"),
    ]:
        r = client.request(method, path, headers={"Authorization": "Bearer kefu_wrong"})
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_role_without_permission_gets_403(client: TestClient, kefu: Kefu, customer: Json) -> None:
    auditor = make_actor(kefu, Role.AUDITOR)
    r = client.post("/api/v1/work-orders", headers=auditor.headers, json=work_order_body(customer["id"]))
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


def test_list_filters_and_keyset_pages(client: TestClient, agent: Actor, customer: Json) -> None:
    cid = customer["id"]
    made = [
        new_work_order(client, agent, cid, category=c)["number"]
        for c in [
            "broadband.no_connection",
            "billing.refund",
            "broadband.slow_speed",
            "billing.invoice",
            "broadband.wifi",
        ]
    ]
    move(client, agent, made[0], "accepted")
    params = {"customer": cid, "limit": 2}
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get(
            "/api/v1/work-orders", headers=agent.headers, params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [w["number"] for w in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))  # newest first, each exactly once
    broadband = client.get(
        "/api/v1/work-orders", headers=agent.headers, params={"customer": cid, "category": "broadband"}
    ).json()["items"]
    assert {w["number"] for w in broadband} == {made[0], made[2], made[4]}
    accepted = client.get(
        "/api/v1/work-orders", headers=agent.headers, params={"customer": cid, "status": "accepted"}
    ).json()["items"]
    assert [w["number"] for w in accepted] == [made[0]]
    mine = client.get(
        "/api/v1/work-orders",
        headers=agent.headers,
        params={"owner": agent.id, "type": "fault", "priority": "P3", "open": "true"},
    ).json()["items"]
    assert set(made) <= {w["number"] for w in mine}
    bad = client.get("/api/v1/work-orders", headers=agent.headers, params={"cursor": "!!!"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    bad = client.get("/api/v1/work-orders", headers=agent.headers, params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_unknown_work_order_is_404_problem(client: TestClient, agent: Actor) -> None:
    r = client.get("/api/v1/work-orders/GD20990101000001", headers=agent.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "GD20990101000001" in r.json()["detail"]


def test_errors_speak_chinese_by_default(client: TestClient, agent: Actor) -> None:
    r = client.get("/api/v1/work-orders/GD20990101000001", headers={"Authorization": agent.headers["Authorization"]})
    assert "不存在" in r.json()["detail"]


def test_link_and_merge_work_orders(client: TestClient, agent: Actor, customer: Json, kefu: Kefu) -> None:
    a = new_work_order(client, agent, customer["id"])["number"]
    b = new_work_order(client, agent, customer["id"], title="重复登记")["number"]
    other_customer = client.post(
        "/api/v1/customers",
        headers=agent.headers,
        json={"name": "别人", "phone": "139" + uuid.uuid4().hex[:8].translate(str.maketrans("abcdef", "123456"))},
    ).json()
    c = new_work_order(client, agent, other_customer["id"])["number"]
    url = f"/api/v1/work-orders/{a}/links"
    for body, status in [
        ({"other": a}, 422),
        ({"other": "nonsense"}, 422),
        ({"other": c, "merge": True}, 422),
        ({"other": "GD20000101000001"}, 404),
    ]:
        r = client.post(url, headers=agent.headers, json=body)
        assert r.status_code == status, (body, r.text)
    assert client.post(url, headers=agent.headers, json={"other": c}).status_code == 200  # related, kept open
    r = client.post(url, headers=agent.headers, json={"other": b, "merge": True})
    assert r.status_code == 200
    dup = client.get(f"/api/v1/work-orders/{b}", headers=agent.headers).json()
    assert dup["status"] == "cancelled"
    kept = client.get(f"/api/v1/work-orders/{a}/history", headers=agent.headers).json()["events"]
    assert [(e["kind"], e["data"]["other"]) for e in kept if e["kind"] in ("linked", "merged")] == [
        ("linked", c),
        ("merged", b),
    ]
    merged = client.get(f"/api/v1/work-orders/{b}/history", headers=agent.headers).json()["events"]
    assert any(e["kind"] == "merged" and e["data"]["other"] == a for e in merged)
    assert any(e["to_status"] == "cancelled" and a in (e["note"] or "") for e in merged)
