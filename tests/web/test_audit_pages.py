"""The audit log page for auditors, and the reason asked before personal data is shown (R3, R35)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.adapters.db.tables import audit_log
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Json, make_actor, new_work_order
from tests.support.pages import csrf_of, logged_in


def test_showing_personal_data_on_the_work_order_page_asks_why(client: TestClient, kefu: Kefu, customer: Json) -> None:
    number = new_work_order(client, make_actor(kefu, Role.AGENT), customer["id"])["number"]
    supervisor = logged_in(client, kefu, Role.SUPERVISOR)
    page = client.get(f"/ui/work-orders/{number}")
    assert 'id="unmask"' in page.text and "查看个人信息的原因" in page.text and "投诉处理" in page.text
    assert "体育西路100号" not in page.text
    unmask = f"/ui/work-orders/{number}/unmask"
    r = client.post(unmask, data={"csrf": csrf_of(page.text), "reason": ""})
    assert r.status_code == 422 and "请说明查看个人信息的原因" in r.text and "体育西路100号" not in r.text
    r = client.post(unmask, data={"csrf": "forged", "reason": "identity_verified"})
    assert r.status_code == 422 and "体育西路100号" not in r.text
    r = client.post(
        unmask, data={"csrf": csrf_of(page.text), "reason": "identity_verified", "reason_note": "核对了服务密码"}
    )
    assert r.status_code == 200 and "体育西路100号" in r.text and r.headers["cache-control"] == "no-store"
    with kefu.engine.connect() as conn:
        row = conn.execute(
            select(audit_log).where(audit_log.c.actor_id == supervisor.id).order_by(audit_log.c.seq.desc()).limit(1)
        ).one()
    assert row.reason == "identity_verified"
    assert row.details == {"record": f"work_order:{number}", "note": "核对了服务密码"}


def test_an_agent_is_not_offered_the_form(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    number = new_work_order(client, agent, customer["id"])["number"]
    page = client.get(f"/ui/work-orders/{number}")
    assert 'id="unmask"' not in page.text
    r = client.post(f"/ui/work-orders/{number}/unmask", data={"csrf": csrf_of(page.text), "reason": "field_visit"})
    assert r.status_code == 403 and "体育西路100号" not in r.text


def test_an_auditor_filters_the_log_in_chinese(client: TestClient, kefu: Kefu, customer: Json) -> None:
    supervisor = make_actor(kefu, Role.SUPERVISOR)
    client.get(
        f"/api/v1/customers/{customer['id']}",
        headers=supervisor.headers,
        params={"unmask": "true", "reason": "field_visit"},
    )
    logged_in(client, kefu, Role.AUDITOR)
    page = client.get("/ui/audit", params={"customer": customer["id"]})
    assert page.status_code == 200 and 'id="audit-rows"' in page.text
    assert "查看个人信息" in page.text and "上门服务" in page.text and "审计日志" in page.text
    bad = client.get("/ui/audit", params={"start": "2026-13-01"})
    assert bad.status_code == 422 and 'id="error"' in bad.text and 'id="audit-filter"' in bad.text
    nobody = client.get("/ui/audit", params={"actor": "nobody-of-that-name"})
    assert nobody.status_code == 422 and "nobody-of-that-name" in nobody.text


def test_nobody_else_sees_the_audit_page(client: TestClient, kefu: Kefu) -> None:
    for role in (Role.AGENT, Role.SUPERVISOR):
        with TestClient(client.app, base_url="http://127.0.0.1") as other:
            logged_in(other, kefu, role)
            r = other.get("/ui/audit")
            assert r.status_code == 403 and 'id="audit-rows"' not in r.text
            assert 'href="/ui/audit"' not in other.get("/ui/work-orders").text
