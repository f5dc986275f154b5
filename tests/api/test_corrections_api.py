"""Corrections (issue #12, part 3) through HTTP on SQLite and PostgreSQL: a work order's registered
fields (`PATCH /api/v1/work-orders/{number}`), a customer's record (`PATCH /api/v1/customers/{id}`)
and merging a duplicate customer into the real one. Each change is an event or a history row; the
time limits and routing follow a reclassification; bad input names the field and stores nothing."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.adapters.db.tables import audit_log, contacts, customers
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.domain.sla import ClockName, happening_of, recompute
from kefu.domain.workorders import Channel
from kefu.services.channels import intake
from kefu.services.sla import clocks
from tests.support.factories import (
    Actor,
    Json,
    make_actor,
    new_customer,
    new_organisation,
    new_team,
    new_work_order,
    unique_phone,
)


def _history(client: TestClient, actor: Actor, number: str) -> list[Json]:
    r = client.get(f"/api/v1/work-orders/{number}/history", headers=actor.headers)
    assert r.status_code == 200, r.text
    events: list[Json] = r.json()["events"]
    return events


def _edits(client: TestClient, actor: Actor, number: str) -> list[tuple[str, object, object, str | None]]:
    return [
        (e["data"]["field"], e["data"]["from"], e["data"]["to"], e["note"])
        for e in _history(client, actor, number)
        if e["kind"] == "edited"
    ]


def _clocks_equal_recompute(kefu: Kefu, number: str) -> dict[ClockName, str]:
    """Each stored clock against the same clock derived from the whole timeline; their phases."""
    with kefu.ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        assert wo is not None and wo.id is not None
        setup = clocks.setup(kefu.ctx, uow)
        happenings = [h for e in uow.work_orders.history(wo.id) if (h := happening_of(e)) is not None]
        records = uow.sla.clocks(wo.id)
    for record in records:
        target = int(record.state.target / timedelta(minutes=1))
        derived = recompute(record.state.name, target, happenings, setup.calendar(record.calendar))
        stored = record.state
        assert (stored.phase, stored.elapsed, stored.running_since, stored.started_at, stored.stopped_at) == (
            derived.phase,
            derived.elapsed,
            derived.running_since,
            derived.started_at,
            derived.stopped_at,
        ), record.state.name
    return {r.state.name: r.state.phase.value for r in records}


def test_each_corrected_field_is_an_event_and_the_etag_moves(client: TestClient, agent: Actor) -> None:
    customer = new_customer(client, agent)
    wo = new_work_order(client, agent, customer["id"])
    number = wo["number"]
    r = client.patch(
        f"/api/v1/work-orders/{number}",
        headers={**agent.headers, "If-Match": '"1"'},
        json={"title": "宽带时断时续", "fault_place": "天河区体育西路 100 号", "device": "华为光猫 HG8245"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["title"] == "宽带时断时续"
    assert _edits(client, agent, number) == [
        ("title", "宽带无法连接", "宽带时断时续", None),
        ("fault_place", None, "天河区体育西******", None),  # an address: masked for an agent
        ("device", None, "华为光猫 HG8245", None),
    ]
    # The same values again change nothing: refused, naming the field.
    again = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json={"title": "宽带时断时续"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "title"


def test_a_stale_version_is_refused_and_nothing_is_stored(client: TestClient, agent: Actor) -> None:
    customer = new_customer(client, agent)
    number = new_work_order(client, agent, customer["id"])["number"]
    r = client.patch(
        f"/api/v1/work-orders/{number}", headers={**agent.headers, "If-Match": '"7"'}, json={"title": "过期的改动"}
    )
    assert r.status_code == 409, r.text
    bad = client.patch(
        f"/api/v1/work-orders/{number}", headers={**agent.headers, "If-Match": "abc"}, json={"title": "x"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "If-Match"
    got = client.get(f"/api/v1/work-orders/{number}", headers=agent.headers)
    assert got.json()["title"] == "宽带无法连接" and got.headers["etag"] == '"1"'
    assert _edits(client, agent, number) == []


def test_bad_input_names_the_field_and_stores_nothing(client: TestClient, agent: Actor) -> None:
    customer = new_customer(client, agent)
    number = new_work_order(client, agent, customer["id"])["number"]
    for body, field in [
        ({"category": "no.such.category"}, "category"),
        ({"title": "x" * 201}, "title"),
        ({"description": "长" * 20_001}, "description"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"type": "gossip"}, "type"),
        ({"severity": 9}, "severity"),
        ({"customer_id": 2**63}, "customer_id"),
        ({"fault_time": "0001-01-01T00:00:00+08:00"}, "fault_time"),
        ({"fault_time": "2999-01-01T00:00:00+08:00"}, "fault_time"),
        ({"type": "inquiry", "severity": 2}, "severity"),
        ({"owner_id": 1}, "owner_id"),
        ({"reason": "y" * 1001, "title": "新标题"}, "reason"),
    ]:
        r = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    nul = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json={"title": "断\x00网"})
    assert nul.status_code == 422
    got = client.get(f"/api/v1/work-orders/{number}", headers=agent.headers)
    assert got.headers["etag"] == '"1"' and got.json()["category"] == "broadband.no_connection"
    assert _edits(client, agent, number) == []


def test_reclassifying_moves_the_time_limits_and_keeps_the_clocks_history(
    client: TestClient, agent: Actor, kefu: Kefu
) -> None:
    customer = new_customer(client, agent)
    number = new_work_order(client, agent, customer["id"])["number"]  # a fault
    before = _clocks_equal_recompute(kefu, number)
    assert ClockName.CUSTOMER_REPLY not in before
    r = client.patch(
        f"/api/v1/work-orders/{number}",
        headers=agent.headers,
        json={"type": "complaint", "category": "billing.disputed_charge", "reason": "客户其实是投诉账单"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["severity"] is None  # a severity belongs to faults
    phases = _clocks_equal_recompute(kefu, number)
    assert phases[ClockName.CUSTOMER_REPLY] == "running"  # a complaint's reply clock, from registration
    applied = [e for e in _history(client, agent, number) if e["kind"] == "sla_applied"]
    assert applied and applied[-1]["note"] == "客户其实是投诉账单"
    assert "customer_reply" in applied[-1]["data"]["added"]
    # Back to a fault: the complaint's reply clock is withdrawn, stopped where it stood.
    r = client.patch(
        f"/api/v1/work-orders/{number}",
        headers=agent.headers,
        json={"type": "fault", "category": "broadband.no_connection", "reason": "还是故障"},
    )
    assert r.status_code == 200 and r.json()["severity"] == 3
    phases = _clocks_equal_recompute(kefu, number)
    assert phases[ClockName.CUSTOMER_REPLY] == "stopped"
    assert (
        "customer_reply"
        in [e for e in _history(client, agent, number) if e["kind"] == "sla_applied"][-1]["data"]["withdrawn"]
    )
    fields = [f for f, *_ in _edits(client, agent, number)]
    assert fields == ["type", "category", "severity", "type", "category", "severity"]


def test_after_a_dispatch_reclassifying_needs_a_reason(client: TestClient, kefu: Kefu) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    org = new_organisation(client, admin, "改派省", "province")
    team = new_team(client, admin, org, f"技术{secrets.token_hex(3)}", "tech_support")
    customer = new_customer(client, admin)
    number = new_work_order(client, admin, customer["id"])["number"]
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=admin.headers,
        json={"to_team_id": team, "instruction": "请核查"},
    )
    assert r.status_code == 201, r.text
    r = client.patch(f"/api/v1/work-orders/{number}", headers=admin.headers, json={"category": "broadband.slow_speed"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    fine = client.patch(f"/api/v1/work-orders/{number}", headers=admin.headers, json={"title": "只改标题不需原因"})
    assert fine.status_code == 200, fine.text
    r = client.patch(
        f"/api/v1/work-orders/{number}",
        headers=admin.headers,
        json={"category": "broadband.slow_speed", "reason": "核实为网速慢"},
    )
    assert r.status_code == 200 and r.json()["category"] == "broadband.slow_speed"


def test_relinking_to_another_organisations_customer_is_no_such_customer(client: TestClient, kefu: Kefu) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    mine = new_organisation(client, admin, "本省", "province")
    theirs = new_organisation(client, admin, "他省", "province")
    me = make_actor(kefu, Role.AGENT, new_team(client, admin, mine, f"接待{secrets.token_hex(3)}", "reception"))
    other = make_actor(kefu, Role.AGENT, new_team(client, admin, theirs, f"接待{secrets.token_hex(3)}", "reception"))
    wrong, right = new_customer(client, me, name="错的人"), new_customer(client, me, name="对的人")
    foreign = new_customer(client, other, name="他省客户")
    number = new_work_order(client, me, wrong["id"])["number"]
    r = client.patch(f"/api/v1/work-orders/{number}", headers=me.headers, json={"customer_id": foreign["id"]})
    assert r.status_code == 404, r.text
    r = client.patch(f"/api/v1/work-orders/{number}", headers=other.headers, json={"title": "别人的工单"})
    assert r.status_code == 404
    r = client.patch(f"/api/v1/work-orders/{number}", headers=me.headers, json={"customer_id": right["id"]})
    assert r.status_code == 200 and r.json()["customer_id"] == right["id"]
    assert client.get(f"/api/v1/work-orders/{number}", headers=me.headers).json()["customer_id"] == right["id"]
    assert _edits(client, me, number) == [("customer_id", wrong["id"], right["id"], None)]
    # Customers: another organisation's record is not found for correcting or merging either.
    assert (
        client.patch(f"/api/v1/customers/{foreign['id']}", headers=me.headers, json={"name": "改名"}).status_code == 404
    )
    merged = client.post(
        f"/api/v1/customers/{right['id']}/merges", headers=me.headers, json={"merged_id": foreign["id"]}
    )
    assert merged.status_code == 404
    merged = client.post(
        f"/api/v1/customers/{foreign['id']}/merges", headers=me.headers, json={"merged_id": wrong["id"]}
    )
    assert merged.status_code == 404


def test_a_customer_correction_is_in_its_history_masked_and_audited(
    client: TestClient, agent: Actor, kefu: Kefu
) -> None:
    customer = new_customer(client, agent, name="李雷", email="lilei@example.cn")
    new_phone = unique_phone()
    r = client.patch(
        f"/api/v1/customers/{customer['id']}",
        headers=agent.headers,
        json={"name": "李磊", "phone": new_phone, "tier": "vip", "region": "深圳", "reason": "客户来电更正"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "李磊" and body["tier"] == "vip" and body["masked"] is True and "****" in body["phone"]
    history = client.get(f"/api/v1/customers/{customer['id']}/history", headers=agent.headers).json()
    by_field = {h["field"]: h for h in history}
    assert set(by_field) == {"name", "phone", "tier", "region"}
    assert by_field["name"]["old"] == "李雷" and by_field["name"]["new"] == "李磊"
    assert by_field["phone"]["new"] == f"{new_phone[:3]}****{new_phone[-4:]}"  # personal data masked
    assert by_field["tier"]["reason"] == "客户来电更正"
    with kefu.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.details).where(audit_log.c.customer_id == customer["id"])
        ).all()
    assert ("customer.changed", {"fields": ["name", "phone", "region", "tier"]}) in [(a, d) for a, d in rows]


def test_bad_customer_corrections_name_the_field_and_store_nothing(client: TestClient, agent: Actor) -> None:
    customer = new_customer(client, agent, name="韩梅梅")
    for body, field in [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"tier": "gold"}, "tier"),
        ({"tier": None}, "tier"),
        ({"name": ""}, "name"),
        ({"name": "长" * 101}, "name"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"phone": None}, "phone"),  # nothing would reach the customer any more
        ({"name": "韩梅梅"}, "name"),  # nothing changes
        ({"organisation_id": 1}, "organisation_id"),
    ]:
        r = client.patch(f"/api/v1/customers/{customer['id']}", headers=agent.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert (
        client.patch(f"/api/v1/customers/{customer['id']}", headers=agent.headers, json={"name": "韩\x00"}).status_code
        == 422
    )
    assert client.get(f"/api/v1/customers/{customer['id']}/history", headers=agent.headers).json() == []
    got = client.get(f"/api/v1/customers/{customer['id']}", headers=agent.headers).json()
    assert got["name"] == "韩梅梅" and got["phone"] == customer["phone"]


def test_merging_an_sms_born_customer_moves_everything_and_keeps_the_record(
    client: TestClient, agent: Actor, kefu: Kefu
) -> None:
    real = new_customer(client, agent, name="张伟")
    texted_from = unique_phone()
    first = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="家里宽带又断了", phone=texted_from))
    assert first.opened and first.work_order is not None and first.customer_id is not None
    born = first.customer_id
    number = first.work_order.number
    r = client.post(
        f"/api/v1/customers/{real['id']}/merges",
        headers=agent.headers,
        json={"merged_id": born, "reason": "同一客户用另一个号码发短信"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == real["id"]
    wo = client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()
    assert wo["customer_id"] == real["id"]
    assert _edits(client, agent, number) == [("customer_id", born, real["id"], "同一客户用另一个号码发短信")]
    with kefu.engine.connect() as conn:
        assert conn.execute(select(customers.c.merged_into_id).where(customers.c.id == born)).scalar_one() == real["id"]
        assert {
            row.customer_id
            for row in conn.execute(select(contacts).where(contacts.c.work_order_id == first.work_order.id))
        } == {real["id"]}
        audit = conn.execute(
            select(audit_log.c.details).where(
                audit_log.c.action == "customer.merged", audit_log.c.customer_id == real["id"]
            )
        ).scalar_one()
    assert audit["merged"] == born and audit["work_orders"] == 1
    # The merged record stays, marked, and its number now finds the real customer.
    kept = client.get(f"/api/v1/customers/{born}", headers=agent.headers).json()
    assert kept["merged_into_id"] == real["id"]
    again = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="还是不通 " + number, phone=texted_from))
    assert again.customer_id == real["id"] and again.work_order is not None and again.work_order.number == number
    history = client.get(f"/api/v1/customers/{real['id']}/history", headers=agent.headers).json()
    assert [h["field"] for h in history] == ["merged"]
    # Merging again, into itself, or a merged record: refused, naming the field.
    for body, target, field in [
        ({"merged_id": born}, real["id"], "merged_id"),
        ({"merged_id": real["id"]}, real["id"], "merged_id"),
        ({"merged_id": 2**63}, real["id"], "merged_id"),
        ({"merged_id": real["id"]}, born, "survivor_id"),
    ]:
        refused = client.post(f"/api/v1/customers/{target}/merges", headers=agent.headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]]
    relink = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json={"customer_id": born})
    assert relink.status_code == 422 and relink.json()["errors"][0]["field"] == "customer_id"


def test_a_vendor_answers_its_hop_but_does_not_correct_the_registration(client: TestClient, kefu: Kefu) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    vendor = new_organisation(client, admin, "终端厂商", "vendor")
    vendor_team = new_team(client, admin, vendor, f"厂商{secrets.token_hex(3)}", "tech_support")
    vendor_agent = make_actor(kefu, Role.AGENT, vendor_team)
    number = new_work_order(client, admin, new_customer(client, admin)["id"])["number"]
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=admin.headers,
        json={"to_team_id": vendor_team, "instruction": "请检测终端"},
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/work-orders/{number}", headers=vendor_agent.headers).status_code == 200
    r = client.patch(f"/api/v1/work-orders/{number}", headers=vendor_agent.headers, json={"title": "厂商改的标题"})
    assert r.status_code == 403, r.text
    assert _edits(client, admin, number) == []


def test_a_customers_new_tier_moves_the_time_limits_of_their_open_work_orders(
    client: TestClient, agent: Actor, kefu: Kefu
) -> None:
    customer = new_customer(client, agent)
    number = new_work_order(client, agent, customer["id"], type="complaint", category="billing.disputed_charge")[
        "number"
    ]
    before = {
        c["name"]: c["target_minutes"]
        for c in client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]
    }
    r = client.patch(f"/api/v1/customers/{customer['id']}", headers=agent.headers, json={"tier": "vip"})
    assert r.status_code == 200, r.text
    after = {
        c["name"]: c["target_minutes"]
        for c in client.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]
    }
    assert after["customer_reply"] == 8 * 60 and before["customer_reply"] == 48 * 60  # seed 004: VIP 8 h
    _clocks_equal_recompute(kefu, number)


def test_a_finished_work_order_is_not_corrected(client: TestClient, agent: Actor) -> None:
    number = new_work_order(client, agent, new_customer(client, agent)["id"])["number"]
    r = client.post(
        f"/api/v1/work-orders/{number}/transitions", headers=agent.headers, json={"to": "cancelled", "note": "重复"}
    )
    assert r.status_code == 200, r.text
    r = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json={"title": "撤销后再改"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "title"


def test_a_caller_not_on_file_is_registered_with_the_work_order(client: TestClient, agent: Actor) -> None:
    phone = unique_phone()
    body: dict[str, object] = {
        "type": "fault",
        "category": "broadband.no_connection",
        "channel": "hotline",
        "title": "宽带断网",
        "description": "光猫红灯",
        "customer_id": None,
        "new_customer": {"name": "孙丽", "phone": phone, "region": "珠海"},
    }
    overs: list[tuple[dict[str, object], str]] = [
        ({"new_customer": None}, "customer_id"),
        ({"customer_id": 1}, "new_customer"),
        ({"new_customer": {"name": "孙丽", "phone": "123"}}, "new_customer.phone"),
        ({"new_customer": {"name": "孙丽", "phone": "12345678"}}, "phone"),
        ({"new_customer": {"name": "孙丽", "phone": phone, "bogus": 1}}, "new_customer.bogus"),
        ({"category": "no.such"}, "category"),
    ]
    for over, field in overs:
        r = client.post("/api/v1/work-orders", headers=agent.headers, json={**body, **over})
        assert r.status_code == 422, (over, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (over, r.json())
    assert client.get("/api/v1/customers", headers=agent.headers, params={"phone": phone}).json()["items"] == []
    r = client.post("/api/v1/work-orders", headers={**agent.headers, "Idempotency-Key": f"k{phone}"}, json=body)
    assert r.status_code == 201, r.text
    again = client.post("/api/v1/work-orders", headers={**agent.headers, "Idempotency-Key": f"k{phone}"}, json=body)
    assert again.status_code == 201 and again.json()["number"] == r.json()["number"]
    [made] = client.get("/api/v1/customers", headers=agent.headers, params={"phone": phone}).json()["items"]
    assert made["id"] == r.json()["customer_id"] and made["region"] == "珠海"


def test_search_follows_corrections_and_merges(client: TestClient, agent: Actor, kefu: Kefu) -> None:
    tag = secrets.token_hex(3)
    customer = new_customer(client, agent, name=f"欧{tag}")
    number = new_work_order(client, agent, customer["id"])["number"]
    r = client.patch(f"/api/v1/customers/{customer['id']}", headers=agent.headers, json={"name": f"周{tag}"})
    assert r.status_code == 200, r.text
    r = client.patch(f"/api/v1/work-orders/{number}", headers=agent.headers, json={"title": f"路由器{tag}故障"})
    assert r.status_code == 200, r.text

    def found(q: str) -> list[str]:
        answer = client.get("/api/v1/search", headers=agent.headers, params={"q": q})
        assert answer.status_code == 200, answer.text
        return [item["work_order"]["number"] for item in answer.json()["items"]]

    assert number in found(f"周{tag}") and number not in found(f"欧{tag}")
    texted = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="短信报障", phone=unique_phone()))
    assert texted.work_order is not None and texted.customer_id is not None
    r = client.post(
        f"/api/v1/customers/{customer['id']}/merges", headers=agent.headers, json={"merged_id": texted.customer_id}
    )
    assert r.status_code == 200, r.text
    assert texted.work_order.number in found(f"周{tag}")  # now the real customer's
