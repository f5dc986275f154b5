"""The time-limit API through HTTP."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, Json, make_actor, work_order_body


def test_policies_are_listed_and_only_managers_change_them(client: TestClient, kefu: Kefu, agent: Actor) -> None:
    listed = client.get("/api/v1/sla/policies", headers=agent.headers).json()
    assert any(p["name"].startswith("默认") for p in listed)
    body = {
        "name": f"VIP store {secrets.token_hex(3)}",
        "position": 500,
        "calendar": "office",
        "conditions": {"tiers": ["vip"], "channels": ["store"], "categories": ["marketing"]},
        "targets": {"resolution": 240, "hop": {"vip": 120, "*": 240}},
        "warn_at": [0.5, 0.8],
        "escalations": [{"level": 1, "at": 1.0, "notify": ["centre_manager"], "raise_priority": True}],
    }
    assert client.post("/api/v1/sla/policies", headers=agent.headers, json=body).status_code == 403
    admin = make_actor(kefu, Role.ADMIN)
    r = client.post("/api/v1/sla/policies", headers=admin.headers, json=body)
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["targets"]["hop"] == {"vip": 120, "*": 240} and saved["escalations"][0]["raise_priority"]
    again = client.post("/api/v1/sla/policies", headers=admin.headers, json=body)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "name"
    bad = client.put(
        f"/api/v1/sla/policies/{saved['id']}",
        headers=admin.headers,
        json={**body, "calendar": "moon", "name": body["name"]},
    )
    assert bad.status_code == 422 and "moon" in bad.json()["detail"]
    bad = client.post(
        "/api/v1/sla/policies",
        headers=admin.headers,
        json={**body, "name": f"x{body['name']}", "targets": {"resolution": 0}},
    )
    assert bad.status_code == 422


def test_calendar_days_and_bad_input(client: TestClient, kefu: Kefu) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    r = client.put(
        "/api/v1/sla/calendars/office/days/2027-02-06",
        headers=admin.headers,
        json={"is_workday": True, "note": "春节调休"},
    )
    assert r.status_code == 204
    office = {c["name"]: c for c in client.get("/api/v1/sla/calendars", headers=admin.headers).json()}["office"]
    assert office["overrides"]["2027-02-06"] is True
    assert (
        client.put(
            "/api/v1/sla/calendars/nowhere/days/2027-02-06", headers=admin.headers, json={"is_workday": True}
        ).status_code
        == 404
    )
    r = client.post(
        "/api/v1/sla/calendars",
        headers=admin.headers,
        json={"name": f"night{secrets.token_hex(2)}", "hours": [["22:00", "06:00"], ["05:00", "07:00"]]},
    )
    assert r.status_code == 201  # 05:00-07:00 does not overlap a shift that belongs to the day before
    r = client.post(
        "/api/v1/sla/calendars",
        headers=admin.headers,
        json={"name": f"bad{secrets.token_hex(2)}", "hours": [["08:00", "12:00"], ["11:00", "13:00"]]},
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/sla/calendars",
        headers=admin.headers,
        json={"name": f"tz{secrets.token_hex(2)}", "timezone": "Mars/Base"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone"


def test_agreement_targets_apply_and_the_statement_answers(client: TestClient, kefu: Kefu, customer: Json) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    r = client.post(
        f"/api/v1/customers/{customer['id']}/agreements",
        headers=admin.headers,
        json={
            "name": "专线",
            "targets": {"resolution": 90},
            "compensation_fen_per_hour": 10000,
            "valid_from": "2020-01-01",
        },
    )
    assert r.status_code == 201, r.text
    wo = client.post("/api/v1/work-orders", headers=admin.headers, json=work_order_body(customer["id"])).json()
    clocks = {
        c["name"]: c for c in client.get(f"/api/v1/work-orders/{wo['number']}", headers=admin.headers).json()["clocks"]
    }
    assert clocks["resolution"]["target_minutes"] == 90
    st = client.get(
        f"/api/v1/customers/{customer['id']}/sla-statement", headers=admin.headers, params={"month": "2026-11"}
    )
    assert st.status_code == 200 and st.json()["total_credit_fen"] == 0 and st.json()["lines"] == []
    bad = client.get(
        f"/api/v1/customers/{customer['id']}/sla-statement", headers=admin.headers, params={"month": "November"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"


def test_priority_endpoint(client: TestClient, agent: Actor, customer: Json) -> None:
    wo = client.post("/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"])).json()
    r = client.post(
        f"/api/v1/work-orders/{wo['number']}/priority",
        headers=agent.headers,
        json={"priority": "P1", "reason": "影响营业"},
    )
    assert r.status_code == 200 and r.json()["priority"] == "P1" and r.json()["version"] == 2
    same = client.post(f"/api/v1/work-orders/{wo['number']}/priority", headers=agent.headers, json={"priority": "P1"})
    assert same.status_code == 422
