"""GET /api/v1/audit: auditors and administrators read and filter the audit log; nobody else can."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import UNMASK, Actor, Json, make_actor, new_customer


@pytest.fixture
def auditor(kefu: Kefu) -> Actor:
    return make_actor(kefu, Role.AUDITOR)


def test_an_auditor_finds_who_saw_whose_personal_data_and_why(
    client: TestClient, auditor: Actor, supervisor: Actor, customer: Json
) -> None:
    r = client.get(
        f"/api/v1/customers/{customer['id']}",
        headers=supervisor.headers,
        params={**UNMASK, "reason": "legal_request", "reason_note": "公安协查函 2026-118"},
    )
    assert r.status_code == 200
    r = client.get("/api/v1/audit", headers=auditor.headers, params={"customer": customer["id"]})
    assert r.status_code == 200, r.text
    [row] = r.json()["items"]
    assert row["action"] == "personal_data.unmasked" and row["actor_id"] == supervisor.id
    assert row["actor"] and row["reason"] == "legal_request" and row["subject_id"] == str(customer["id"])
    assert row["details"] == {"record": f"customer:{customer['id']}", "note": "公安协查函 2026-118"}
    assert len(row["hash"]) == 64 and len(row["prev_hash"]) == 64
    by_actor = client.get(
        "/api/v1/audit",
        headers=auditor.headers,
        params={"actor": supervisor.username, "action": "personal_data.unmasked"},
    ).json()["items"]
    assert [x["id"] for x in by_actor] == [row["id"]]
    # The auditor's own reading is in the log as well.
    mine = client.get(
        "/api/v1/audit", headers=auditor.headers, params={"actor": auditor.username, "action": "audit.read"}
    ).json()["items"]
    assert mine and mine[-1]["details"]["filter"] == {"customer_id": customer["id"]}


def test_pages_of_the_log_follow_one_another(client: TestClient, kefu: Kefu, supervisor: Actor) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    customer = new_customer(client, supervisor)
    for reason in ("identity_verified", "customer_request", "field_visit"):
        client.get(
            f"/api/v1/customers/{customer['id']}", headers=supervisor.headers, params={**UNMASK, "reason": reason}
        )
    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"customer": customer["id"], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/audit", headers=admin.headers, params=params).json()
        seen += [x["reason"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["field_visit", "customer_request", "identity_verified"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.QUALITY, Role.FIELD_ENGINEER])
def test_nobody_else_reads_the_log(client: TestClient, kefu: Kefu, role: Role) -> None:
    r = client.get("/api/v1/audit", headers=make_actor(kefu, role).headers)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-01T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00"}, "from"),
        ({"from": "0001-01-01T00:00:00+08:00"}, "from"),
        ({"to": "2026-11-01"}, "to"),
        ({"action": "everything"}, "action"),
        ({"actor": "nobody-of-that-name"}, "actor"),
        ({"subject_id": "17"}, "subject_type"),
        ({"customer": "0"}, "customer"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "1000"}, "limit"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(
    client: TestClient, auditor: Actor, params: dict[str, str], field: str
) -> None:
    r = client.get("/api/v1/audit", headers=auditor.headers, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_an_export_is_in_the_log_with_its_filter(client: TestClient, kefu: Kefu, auditor: Actor) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    r = client.get("/api/v1/work-orders/export", headers=admin.headers, params={"status": "new", "max_rows": 10})
    assert r.status_code == 200
    [row] = client.get(
        "/api/v1/audit", headers=auditor.headers, params={"actor": admin.username, "action": "data.exported"}
    ).json()["items"]
    assert row["subject_type"] == "work_orders" and row["details"] == {"filter": {"statuses": ["new"]}, "max_rows": 10}
