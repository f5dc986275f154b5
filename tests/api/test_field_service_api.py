"""Field service and service-request checklists through HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from kefu.bootstrap import Kefu
from tests.support.factories import Actor
from tests.support.scenarios import Centre

SH = ZoneInfo("Asia/Shanghai")


def png() -> str:
    """A real 1x1 PNG, as a phone's signature pad would send (smaller, but the same format)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.fixture
def centre(client: TestClient, kefu: Kefu) -> Centre:
    return Centre(client, kefu)


def tomorrow(hour: int) -> str:
    day = datetime.now(SH).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).isoformat()


def schedule(
    client: TestClient, actor: Actor, number: str, engineer: Actor, start: int = 9, end: int = 11, **over: object
) -> Response:
    response: Response = client.post(
        f"/api/v1/work-orders/{number}/visits",
        headers=actor.headers,
        json={
            "engineer_id": engineer.id,
            "window_start": tomorrow(start),
            "window_end": tomorrow(end),
            "tools": ["光功率计", "熔接机"],
            "parts": ["光猫 HG8245"],
            **over,
        },
    )
    return response


def test_a_visit_from_dispatch_to_confirmed_repair(client: TestClient, centre: Centre) -> None:
    c = centre
    number = c.case(client)
    # Reception sends it to field repair; the field team lead accepts.
    hop = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=c.agent.headers,
        json={"to_team_id": c.field, "instruction": "光猫LOS红灯，请上门更换"},
    ).json()
    assert client.post(f"/api/v1/dispatches/{hop['id']}/accept", headers=c.lead.headers).status_code == 200

    # Who to send: skilled first, same region, earliest slot; nobody off shift.
    found = client.get(f"/api/v1/work-orders/{number}/engineer-suggestions", headers=c.lead.headers).json()
    ids = [s["engineer_id"] for s in found]
    assert ids[:2] == [c.fibre.id, c.generalist.id] and c.resting.id not in ids
    assert found[0]["skilled"] and found[0]["local"]

    r = schedule(client, c.lead, number, c.fibre)
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["address"] == "广州市天河区天河路385号1201"  # the customer's address by default
    clocks = {
        k["name"]: k for k in client.get(f"/api/v1/work-orders/{number}", headers=c.lead.headers).json()["clocks"]
    }
    assert clocks["onsite"]["state"] == "running"
    # The engineer's day view lists it; an overlapping second booking is refused.
    day = client.get(
        f"/api/v1/engineers/{c.fibre.id}/visits", headers=c.fibre.headers, params={"day": tomorrow(9)[:10]}
    ).json()
    assert [v["id"] for v in day] == [visit["id"]] and day[0]["number"] == number
    r = schedule(client, c.lead, number, c.fibre, 10, 12)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "window_start"

    url = f"/api/v1/visits/{visit['id']}"
    report = {
        "diagnosis": "光猫光模块损坏",
        "repair_actions": "更换光猫并重新注册",
        "function_test_passed": True,
        "function_test_note": "测速 298M",
        "confirmed_by": "陈女士",
        "signature": png(),
        "site_cleaned": True,
        "outcome": "resolved",
    }
    # Not on site yet: cannot complete.
    assert client.post(f"{url}/complete", headers=c.fibre.headers, json=report).status_code == 409
    # Only the engineer (or a supervisor) records the visit.
    assert client.post(f"{url}/check-in", headers=c.generalist.headers).status_code == 403
    assert client.post(f"{url}/check-in", headers=c.fibre.headers).status_code == 200
    clocks = {
        k["name"]: k for k in client.get(f"/api/v1/work-orders/{number}", headers=c.lead.headers).json()["clocks"]
    }
    assert clocks["onsite"]["state"] == "met"

    # The function test is mandatory; a failed test cannot resolve; nothing is stored on refusal.
    without = {k: v for k, v in report.items() if k != "function_test_passed"}
    r = client.post(f"{url}/complete", headers=c.fibre.headers, json=without)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "function_test_passed"
    r = client.post(f"{url}/complete", headers=c.fibre.headers, json={**report, "function_test_passed": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    bad = {**report, "signature": "data:image/png;base64,AAAA"}
    r = client.post(f"{url}/complete", headers=c.fibre.headers, json=bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "signature"
    visits = client.get(f"/api/v1/work-orders/{number}/visits", headers=c.lead.headers).json()
    assert visits[0]["status"] == "on_site" and visits[0]["diagnosis"] is None

    r = client.post(f"{url}/complete", headers=c.fibre.headers, json=report)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["outcome"], done["signed"], done["confirmed_by"]) == (
        "completed",
        "resolved",
        True,
        "陈女士",
    )
    # The visit returned the field team's hop with its result and resolved the work order.
    hops = client.get(f"/api/v1/work-orders/{number}/dispatches", headers=c.agent.headers).json()
    assert hops[0]["status"] == "returned" and "光猫光模块损坏" in hops[0]["answer"]
    detail = client.get(f"/api/v1/work-orders/{number}", headers=c.agent.headers).json()
    assert detail["status"] == "resolved"
    kinds = [
        e["kind"] for e in client.get(f"/api/v1/work-orders/{number}/history", headers=c.agent.headers).json()["events"]
    ]
    for kind in ("hop_sent", "visit_scheduled", "visit_checked_in", "visit_completed", "hop_returned"):
        assert kind in kinds
    assert kinds.index("visit_completed") < kinds.index("hop_returned")


def test_a_revisit_keeps_the_work_order_open(client: TestClient, centre: Centre) -> None:
    c = centre
    number = c.case(client)
    visit = schedule(client, c.agent, number, c.generalist).json()
    assert client.post(f"/api/v1/visits/{visit['id']}/check-in", headers=c.generalist.headers).status_code == 200
    r = client.post(
        f"/api/v1/visits/{visit['id']}/complete",
        headers=c.generalist.headers,
        json={
            "diagnosis": "需更换分光器，备件不足",
            "function_test_passed": False,
            "site_cleaned": True,
            "outcome": "revisit",
        },
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/work-orders/{number}", headers=c.agent.headers).json()["status"] == "new"
    second = schedule(client, c.agent, number, c.fibre, 14, 16).json()
    # The customer calls to rebook: the hotline agent cancels the appointment, giving the reason.
    r = client.post(f"/api/v1/visits/{second['id']}/cancel", headers=c.agent.headers, json={"reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"/api/v1/visits/{second['id']}/cancel", headers=c.agent.headers, json={"reason": "客户改约"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # A cancelled visit cannot be checked in.
    assert client.post(f"/api/v1/visits/{second['id']}/check-in", headers=c.fibre.headers).status_code == 409


def test_visit_input_is_checked(client: TestClient, centre: Centre) -> None:
    c = centre
    number = c.case(client)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"window_end": tomorrow(8)}, "window_end"),
        ({"engineer_id": c.agent.id}, "engineer_id"),
        ({"window_start": "2020-01-01T09:00:00+08:00", "window_end": "2020-01-01T10:00:00+08:00"}, "window_start"),
    ]
    for over, field in cases:
        r = schedule(client, c.agent, number, c.fibre, **over)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
    assert client.get(f"/api/v1/work-orders/{number}/visits", headers=c.agent.headers).json() == []


def test_sim_replacement_steps_go_in_order(client: TestClient, centre: Centre) -> None:
    c = centre
    number = c.case(
        client,
        type="service_request",
        category="sim_number.replacement",
        title="补换卡",
        description="客户SIM卡丢失，申请补卡",
    )
    base = f"/api/v1/work-orders/{number}/checklist"
    steps = client.get(base, headers=c.agent.headers).json()
    assert [s["code"] for s in steps] == [
        "identity_verified",
        "old_card_deactivated",
        "new_card_issued",
        "number_restored",
        "customer_informed",
    ]
    assert steps[0]["fields"] == ["method"] and not any(s["done"] for s in steps)
    # In order only; each step records what it asks for.
    r = client.post(f"{base}/old_card_deactivated", headers=c.agent.headers, json={})
    assert r.status_code == 409 and "identity_verified" in r.json()["detail"]
    r = client.post(f"{base}/identity_verified", headers=c.agent.headers, json={"data": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "method"
    r = client.post(f"{base}/identity_verified", headers=c.agent.headers, json={"data": {"method": "guess"}})
    assert r.status_code == 422
    r = client.post(f"{base}/identity_verified", headers=c.agent.headers, json={"data": {"method": "id_card_reader"}})
    assert r.status_code == 200 and r.json()["done_by"] == c.agent.id
    # Resolving before the checklist is done is refused.
    r = client.post(f"/api/v1/work-orders/{number}/transitions", headers=c.agent.headers, json={"to": "accepted"})
    assert r.status_code == 200
    r = client.post(f"/api/v1/work-orders/{number}/transitions", headers=c.agent.headers, json={"to": "resolved"})
    assert r.status_code == 422 and "old_card_deactivated" in r.json()["detail"]
    client.post(f"{base}/old_card_deactivated", headers=c.agent.headers, json={})
    r = client.post(f"{base}/new_card_issued", headers=c.agent.headers, json={"data": {"iccid": "123"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "iccid"
    assert (
        client.post(
            f"{base}/new_card_issued", headers=c.agent.headers, json={"data": {"iccid": "8986001234567890123"}}
        ).status_code
        == 200
    )
    for step in ("number_restored", "customer_informed"):
        assert client.post(f"{base}/{step}", headers=c.agent.headers, json={}).status_code == 200
    r = client.post(f"/api/v1/work-orders/{number}/transitions", headers=c.agent.headers, json={"to": "resolved"})
    assert r.status_code == 200, r.text
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=c.agent.headers).json()["events"]
    done = [e["data"] for e in history if e["kind"] == "checklist_step_done"]
    assert [d["step"] for d in done][:1] == ["identity_verified"] and done[0]["method"] == "id_card_reader"
    assert len(done) == 5
