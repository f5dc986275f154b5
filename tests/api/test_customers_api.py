from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.adapters.db.tables import audit_log
from kefu.bootstrap import Kefu
from tests.support.databases import Database
from tests.support.factories import UNMASK, Actor, Json, unique_phone


def test_customer_is_masked_by_default(client: TestClient, agent: Actor, customer: Json) -> None:
    assert customer["tier"] == "premium" and customer["masked"] is True
    assert "****" in customer["phone"] and "*" in customer["id_number"]
    got = client.get(f"/api/v1/customers/{customer['id']}", headers=agent.headers).json()
    assert got["phone"] == customer["phone"] and got["devices"] == [{"model": "华为 Mate 60", "serial": "SN123"}]


def test_agent_may_not_unmask(client: TestClient, agent: Actor, customer: Json) -> None:
    r = client.get(f"/api/v1/customers/{customer['id']}", headers=agent.headers, params=UNMASK)
    assert r.status_code == 403


def test_unmasking_needs_a_reason_from_the_list(client: TestClient, supervisor: Actor, customer: Json) -> None:
    for params in ({"unmask": "true"}, {"unmask": "true", "reason": "curious"}):
        r = client.get(f"/api/v1/customers/{customer['id']}", headers=supervisor.headers, params=params)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason", r.text
    r = client.get(
        f"/api/v1/customers/{customer['id']}", headers=supervisor.headers, params={**UNMASK, "reason_note": "x" * 201}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_note"


def test_supervisor_unmasks_and_the_view_is_audited(
    client: TestClient, supervisor: Actor, kefu: Kefu, customer: Json
) -> None:
    r = client.get(
        f"/api/v1/customers/{customer['id']}",
        headers=supervisor.headers,
        params={"unmask": "true", "reason": "complaint_handling", "reason_note": "投诉回访"},
    )
    assert r.status_code == 200 and "*" not in r.json()["phone"] and r.json()["id_number"] == "11010519491231002X"
    assert r.headers["cache-control"] == "no-store"
    with kefu.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.customer_id == customer["id"])).all()
    assert [(row.actor_id, row.action, row.reason, row.details) for row in rows] == [
        (
            supervisor.id,
            "personal_data.unmasked",
            "complaint_handling",
            {"record": f"customer:{customer['id']}", "note": "投诉回访"},
        )
    ]


def test_search_by_phone_prefix_and_name(client: TestClient, agent: Actor) -> None:
    phone = unique_phone()
    made = client.post(
        "/api/v1/customers", headers=agent.headers, json={"name": "欧阳娜娜", "phone": phone, "tier": "vip"}
    ).json()
    by_phone = client.get("/api/v1/customers", headers=agent.headers, params={"phone": phone[:9]}).json()["items"]
    assert made["id"] in [c["id"] for c in by_phone]
    by_name = client.get("/api/v1/customers", headers=agent.headers, params={"name": "欧阳娜"}).json()["items"]
    assert made["id"] in [c["id"] for c in by_name]
    assert all("****" in c["phone"] for c in by_name)
    assert client.get("/api/v1/customers", headers=agent.headers, params={"phone": "13"}).status_code == 422
    # A phone filter with no digit in it is refused, not dropped (it listed every customer in scope).
    for typed in ("\x00", "abc", "²³⁴⁵⁶"):
        refused = client.get("/api/v1/customers", headers=agent.headers, params={"phone": typed})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["phone"], typed
    spaced = client.get("/api/v1/customers", headers=agent.headers, params={"phone": f" {phone[:3]}-{phone[3:9]} "})
    assert made["id"] in [c["id"] for c in spaced.json()["items"]]  # separators typed by a person still work


def test_bad_customer_input_names_the_field(client: TestClient, agent: Actor) -> None:
    for body, field in [
        ({"name": "张三", "phone": "12345"}, "phone"),
        ({"name": "张三", "phone": unique_phone(), "id_number": "110105194912310021"}, "id_number"),
        ({"name": "张三", "phone": unique_phone(), "tier": "gold"}, "tier"),
        ({"phone": unique_phone()}, "name"),
    ]:
        r = client.post("/api/v1/customers", headers=agent.headers, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field


def test_nul_characters_are_refused_not_a_server_error(client: TestClient, agent: Actor, database: Database) -> None:
    r = client.post("/api/v1/customers", headers=agent.headers, json={"name": "张\x00三", "phone": unique_phone()})
    assert r.status_code == 422
    r = client.get("/api/v1/customers", headers=agent.headers, params={"name": "张\x00"})
    # SQLite can compare with NUL (nothing matches); PostgreSQL refuses it, with a clear 422.
    assert r.status_code == (422 if database.backend == "postgresql" else 200), r.text
