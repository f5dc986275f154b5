"""CTI call events, screen-pop, registration from a call (the `register` clock), the customer's
timeline across channels and the message templates, through HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, make_actor, new_customer, unique_phone, work_order_body


def event(
    client: TestClient, actor: Actor, call_id: str, kind: str, at: datetime, caller: str, **more: object
) -> Response:
    response: Response = client.post(
        "/api/v1/cti/events",
        headers=actor.headers,
        json={"call_id": call_id, "event": kind, "at": at.isoformat(), "caller": caller, **more},
    )
    return response


def test_a_call_from_ringing_to_registration_to_hangup(client: TestClient, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    phone = unique_phone()
    customer = new_customer(client, agent, name="赵六", phone=phone, brand="全球通")
    old = client.post("/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"])).json()
    call_id, now = f"call-{secrets.token_hex(6)}", datetime.now(UTC)
    r = event(client, agent, call_id, "ringing", now - timedelta(seconds=50), phone, callee="10086", queue="宽带")
    assert r.status_code == 200 and r.json()["customer_id"] == customer["id"]
    # The screen-pop shows who is calling and what is open (masked for an agent).
    pop = client.get("/api/v1/cti/screen-pop", headers=agent.headers, params={"caller": phone}).json()
    assert [c["id"] for c in pop["customers"]] == [customer["id"]] and "****" in pop["customers"][0]["phone"]
    assert old["number"] in [w["number"] for w in pop["open_work_orders"]]
    assert pop["call"]["call_id"] == call_id
    r = event(client, agent, call_id, "answered", now - timedelta(seconds=10), phone, agent=agent.username)
    call = r.json()
    assert call["answer_seconds"] == 40 and call["answered_in_time"] is False and call["agent_id"] == agent.id
    # A repeated event changes nothing.
    again = event(client, agent, call_id, "answered", now, phone, agent=agent.username).json()
    assert again["answered_at"] == call["answered_at"]
    # Registered during the call: the registration clock ran from the answer (R2: within 5 minutes).
    r = client.post(
        "/api/v1/work-orders",
        headers=agent.headers,
        json=work_order_body(customer["id"], channel="hotline", call_id=call_id),
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    clocks = {c["name"]: c for c in client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]}
    assert clocks["register"]["state"] == "met"
    # The same call cannot be used for a second work order; an unknown call is refused.
    for bad in (call_id, "no-such-call"):
        r = client.post("/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"], call_id=bad))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "call_id"
    hung = event(client, agent, call_id, "hangup", now + timedelta(minutes=3), phone).json()
    assert hung["hangup_at"] and hung["work_order_id"] is not None
    # The call is on the customer's timeline, with the work order.
    items = client.get(f"/api/v1/customers/{customer['id']}/timeline", headers=agent.headers).json()
    calls = [i for i in items if i["kind"] == "contact" and i["contact"]["channel"] == "hotline"]
    assert len(calls) == 1 and calls[0]["contact"]["data"]["call_id"] == call_id
    assert {i["work_order"]["number"] for i in items if i["kind"] == "work_order"} >= {number, old["number"]}
    assert items == sorted(items, key=lambda i: i["at"], reverse=True)


def test_registration_later_than_five_minutes_after_the_answer_is_a_breach(client: TestClient, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    phone = unique_phone()
    customer = new_customer(client, agent, name="钱七", phone=phone)
    call_id, now = f"call-{secrets.token_hex(6)}", datetime.now(UTC)
    event(client, agent, call_id, "ringing", now - timedelta(minutes=9), phone)
    event(client, agent, call_id, "answered", now - timedelta(minutes=8), phone, agent=agent.username)
    number = client.post(
        "/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"], call_id=call_id)
    ).json()["number"]
    clocks = {c["name"]: c for c in client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]}
    assert clocks["register"]["state"] == "breached"
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    assert [e["data"].get("clock") for e in history if e["kind"] == "sla_breached"] == ["register"]


def test_call_events_refuse_bad_input(client: TestClient, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    at = datetime.now(UTC).isoformat()
    for body in (
        {"call_id": "x", "event": "ringing", "at": at},  # no caller
        {"call_id": "x", "event": "dialling", "at": at, "caller": "13800138000"},
        {"call_id": "x", "event": "ringing", "at": "2026-11-22T09:00:00", "caller": "13800138000"},
        {"call_id": "x", "event": "ringing", "at": at, "caller": "---"},
    ):
        r = client.post("/api/v1/cti/events", headers=agent.headers, json=body)
        assert r.status_code == 422, body
    auditor = make_actor(kefu, Role.AUDITOR)
    r = client.post(
        "/api/v1/cti/events",
        headers=auditor.headers,
        json={"call_id": "x", "event": "ringing", "at": at, "caller": "13800138000"},
    )
    assert r.status_code == 403


def test_admins_edit_message_templates_with_validation(client: TestClient, kefu: Kefu) -> None:
    admin, agent = make_actor(kefu, Role.ADMIN), make_actor(kefu, Role.AGENT)
    url = "/api/v1/message-templates/visit_scheduled/sms/en"
    r = client.put(url, headers=admin.headers, json={"body": "Visit for {number} at {window}."})
    assert r.status_code == 200
    listed = {
        (t["key"], t["channel"], t["locale"]): t
        for t in client.get("/api/v1/message-templates", headers=agent.headers).json()
    }
    assert listed[("visit_scheduled", "sms", "en")]["edited"] and not listed[("resolved", "sms", "zh_CN")]["edited"]
    for path, body, status in [
        (url, {"body": "Visit {number"}, 422),
        ("/api/v1/message-templates/nope/sms/en", {"body": "x"}, 422),
        ("/api/v1/message-templates/resolved/fax/en", {"body": "x"}, 422),
    ]:
        assert client.put(path, headers=admin.headers, json=body).status_code == status
    assert client.put(url, headers=agent.headers, json={"body": "x"}).status_code == 403
