"""Dispatch through HTTP on SQLite and PostgreSQL: the seed 004 chain (vendor -> base province ->
home province -> answer back to the vendor facing the customer), rejected hops, the team queue."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, make_actor, new_customer, new_organisation, new_team, new_work_order

PROBLEM = "application/problem+json"


class Chain:
    """Seed 004's parties: HQ over two provinces, and a device maker outside the operator."""

    def __init__(self, client: TestClient, kefu: Kefu) -> None:
        self.admin = make_actor(kefu, Role.ADMIN)
        a = self.admin
        self.hq = new_organisation(client, a, "集团客服", "headquarters")
        self.base = new_organisation(client, a, "基地省客服部", "province", self.hq)
        self.home = new_organisation(client, a, "归属省客服部", "province", self.hq)
        self.vendor = new_organisation(client, a, "终端厂商", "vendor")
        self.other_vendor = new_organisation(client, a, "另一厂商", "vendor")
        self.vendor_team = new_team(client, a, self.vendor, "厂商热线", "reception")
        self.base_team = new_team(client, a, self.base, "基地技术支持组", "tech_support")
        self.home_team = new_team(client, a, self.home, "归属省技术支持组", "tech_support")
        self.hq_team = new_team(client, a, self.hq, "集团技术支持组", "tech_support")
        self.other_team = new_team(client, a, self.other_vendor, "热线", "reception")
        self.vendor_agent = make_actor(kefu, Role.AGENT, self.vendor_team)
        self.base_agent = make_actor(kefu, Role.TECH_SUPPORT, self.base_team)
        self.home_agent = make_actor(kefu, Role.TECH_SUPPORT, self.home_team)
        self.other_agent = make_actor(kefu, Role.AGENT, self.other_team)
        self.hq_agent = make_actor(kefu, Role.TECH_SUPPORT, self.hq_team)


@pytest.fixture
def chain(client: TestClient, kefu: Kefu) -> Chain:
    return Chain(client, kefu)


def vendor_case(client: TestClient, c: Chain) -> str:
    """A caller reaches the device maker's hotline about a network problem: the vendor registers it."""
    customer = new_customer(
        client, c.vendor_agent, name="李华", brand="动感地带", region="深圳", address="广东省深圳市南山区科技园路1号"
    )
    wo = new_work_order(
        client,
        c.vendor_agent,
        customer["id"],
        type="complaint",
        category="mobile_network.no_data",
        title="TD手机无法上网",
        description="换新手机后 TD 网络下无法上网，厂商检测硬件正常。",
        fault_place="深圳市南山区科技园路1号",
    )
    assert wo["organisation_id"] == c.vendor
    return str(wo["number"])


def status_of(client: TestClient, actor: Actor, number: str) -> str:
    r = client.get(f"/api/v1/work-orders/{number}", headers=actor.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def test_the_seed_004_chain_answers_back_to_the_vendor_facing_the_customer(client: TestClient, chain: Chain) -> None:
    c = chain
    number = vendor_case(client, c)
    # Before any dispatch the provinces do not see the vendor's case.
    assert client.get(f"/api/v1/work-orders/{number}", headers=c.base_agent.headers).status_code == 404

    # 1. Not the vendor's scope: dispatch to the base province's support team.
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=c.vendor_agent.headers,
        json={"to_team_id": c.base_team, "instruction": "请核查客户所在区域TD网络覆盖及号码数据配置"},
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "pending" and first["parent_id"] is None and first["receiver_org_id"] == c.base
    created = datetime.fromisoformat(first["created_at"])
    assert datetime.fromisoformat(first["deadline_at"]) - created == timedelta(hours=6)  # not VIP: 6 hours
    assert status_of(client, c.vendor_agent, number) == "dispatched"

    # The base province now sees it, in its team queue; the home province still does not.
    queue = client.get(f"/api/v1/teams/{c.base_team}/queue", headers=c.base_agent.headers).json()
    assert [h["number"] for h in queue["waiting"]] == [number]
    assert client.get(f"/api/v1/work-orders/{number}", headers=c.home_agent.headers).status_code == 404
    # Only the receiving side answers a hop.
    r = client.post(f"/api/v1/dispatches/{first['id']}/accept", headers=c.vendor_agent.headers)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM

    # 2. The base province accepts, needs the home province to verify, and passes it on.
    assert client.post(f"/api/v1/dispatches/{first['id']}/accept", headers=c.base_agent.headers).status_code == 200
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=c.base_agent.headers,
        json={"to_team_id": c.home_team, "instruction": "请归属省查证该号码的业务开通与APN配置"},
    )
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["parent_id"] == first["id"] and second["sender_org_id"] == c.base
    assert status_of(client, c.vendor_agent, number) == "dispatched"
    # The base cannot answer while the home province has not.
    r = client.post(f"/api/v1/dispatches/{first['id']}/return", headers=c.base_agent.headers, json={"result": "x"})
    assert r.status_code == 409 and str(second["id"]) in r.json()["detail"]

    # The base province also asks group HQ for help at the same time (集团协助).
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=c.base_agent.headers,
        json={"to_team_id": c.hq_team, "instruction": "请集团协调TD网络侧排查"},
    )
    assert r.status_code == 201 and r.json()["parent_id"] == first["id"]
    third = r.json()
    assert client.post(f"/api/v1/dispatches/{third['id']}/accept", headers=c.hq_agent.headers).status_code == 200
    r = client.post(
        f"/api/v1/dispatches/{third['id']}/return",
        headers=c.hq_agent.headers,
        json={"result": "集团核查：该区域TD基站正常。"},
    )
    assert r.status_code == 200

    # 3. The home province verifies and answers the base province.
    assert client.post(f"/api/v1/dispatches/{second['id']}/accept", headers=c.home_agent.headers).status_code == 200
    r = client.post(
        f"/api/v1/dispatches/{second['id']}/return",
        headers=c.home_agent.headers,
        json={"result": "号码APN配置缺失，已补开TD数据业务，请客户重启手机。"},
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert status_of(client, c.vendor_agent, number) == "dispatched"  # the answer is at the base province

    # 4. The base province answers the vendor with the solution.
    r = client.post(
        f"/api/v1/dispatches/{first['id']}/return",
        headers=c.base_agent.headers,
        json={"result": "归属省已补开TD数据业务；请告知客户重启手机后重试。"},
    )
    assert r.status_code == 200, r.text
    assert status_of(client, c.vendor_agent, number) == "returned"

    # The first-ask owner sees every hop of the chain and the whole timeline (R15).
    hops = client.get(f"/api/v1/work-orders/{number}/dispatches", headers=c.vendor_agent.headers).json()
    assert [(h["id"], h["status"]) for h in hops] == [
        (first["id"], "returned"),
        (second["id"], "returned"),
        (third["id"], "returned"),
    ]
    assert hops[1]["answer"].startswith("号码APN配置缺失")
    events = client.get(f"/api/v1/work-orders/{number}/history", headers=c.vendor_agent.headers).json()["events"]
    kinds = [e["kind"] for e in events if e["kind"].startswith("hop_")]
    assert kinds == [
        "hop_sent",
        "hop_accepted",
        "hop_sent",
        "hop_sent",
        "hop_accepted",
        "hop_returned",
        "hop_accepted",
        "hop_returned",
        "hop_returned",
    ]

    # 5. The vendor answers the customer and resolves it; the parties keep read access.
    r = client.post(
        f"/api/v1/work-orders/{number}/transitions",
        headers=c.vendor_agent.headers,
        json={"to": "resolved", "note": "已告知客户按处理方案重启手机，恢复上网。"},
    )
    assert r.status_code == 200, r.text
    assert status_of(client, c.home_agent, number) == "resolved"
    # HQ sees its provinces' cases; another vendor never sees this one.
    assert status_of(client, c.admin, number) == "resolved"
    assert client.get(f"/api/v1/work-orders/{number}", headers=c.other_agent.headers).status_code == 404


def test_a_rejected_hop_goes_back_and_is_passed_on(client: TestClient, chain: Chain) -> None:
    c = chain
    number = vendor_case(client, c)
    url = f"/api/v1/work-orders/{number}/dispatches"
    hop = client.post(
        url, headers=c.vendor_agent.headers, json={"to_team_id": c.home_team, "instruction": "请处理"}
    ).json()
    # A rejection needs a reason; without one nothing changes.
    r = client.post(f"/api/v1/dispatches/{hop['id']}/reject", headers=c.home_agent.headers, json={"reason": "  "})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert status_of(client, c.vendor_agent, number) == "dispatched"
    r = client.post(
        f"/api/v1/dispatches/{hop['id']}/reject",
        headers=c.home_agent.headers,
        json={"reason": "终端问题应先由基地省查证，不属于归属省职责。"},
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert status_of(client, c.vendor_agent, number) == "returned"
    # A rejected hop cannot be accepted any more.
    r = client.post(f"/api/v1/dispatches/{hop['id']}/accept", headers=c.home_agent.headers)
    assert r.status_code == 409 and "rejected" in r.json()["detail"]
    # The sender passes it on to the right party.
    r = client.post(url, headers=c.vendor_agent.headers, json={"to_team_id": c.base_team, "instruction": "请查证"})
    assert r.status_code == 201
    assert status_of(client, c.vendor_agent, number) == "dispatched"
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=c.vendor_agent.headers).json()["events"]
    rejected = next(e for e in history if e["kind"] == "hop_rejected")
    assert rejected["note"].startswith("终端问题") and rejected["data"]["to_team"] == c.home_team
    # The party that rejected keeps seeing the case it was sent (it was a party to it).
    assert client.get(f"/api/v1/work-orders/{number}", headers=c.home_agent.headers).status_code == 200


def test_dispatch_refuses_bad_input_and_changes_nothing(client: TestClient, chain: Chain) -> None:
    c = chain
    number = vendor_case(client, c)
    url = f"/api/v1/work-orders/{number}/dispatches"
    for body, field in [
        ({"to_team_id": c.base_team, "instruction": ""}, "instruction"),
        ({"instruction": "x"}, "to_team_id"),
        ({"to_team_id": 999_999_999, "instruction": "x"}, "to_team_id"),
        ({"to_team_id": c.vendor_team, "instruction": "x"}, "to_team_id"),
        ({"to_team_id": c.base_team, "to_organisation_id": c.home, "instruction": "x"}, "to_team_id"),
    ]:
        r = client.post(url, headers=c.vendor_agent.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    # A bare status move cannot dispatch (no receiver, no instruction).
    r = client.post(
        f"/api/v1/work-orders/{number}/transitions", headers=c.vendor_agent.headers, json={"to": "accepted"}
    )
    assert r.status_code == 200
    r = client.post(
        f"/api/v1/work-orders/{number}/transitions", headers=c.vendor_agent.headers, json={"to": "dispatched"}
    )
    assert r.status_code == 422 and "/dispatches" in r.json()["detail"]
    assert status_of(client, c.vendor_agent, number) == "accepted"
    assert client.get(url, headers=c.vendor_agent.headers).json() == []
    # Someone who merely received nothing cannot pass it on.
    r = client.post(url, headers=c.other_agent.headers, json={"to_team_id": c.base_team, "instruction": "x"})
    assert r.status_code == 404
    # A stale If-Match is refused.
    r = client.post(
        url,
        headers={**c.vendor_agent.headers, "If-Match": '"99"'},
        json={"to_team_id": c.base_team, "instruction": "x"},
    )
    assert r.status_code == 409
    # Dispatched once, it cannot be dispatched again by the owner until it comes back.
    assert (
        client.post(
            url, headers=c.vendor_agent.headers, json={"to_organisation_id": c.base, "instruction": "请查证"}
        ).status_code
        == 201
    )
    r = client.post(url, headers=c.vendor_agent.headers, json={"to_team_id": c.home_team, "instruction": "x"})
    assert r.status_code == 409
    # Nor can the owner mark it returned while the receiver has not answered.
    r = client.post(
        f"/api/v1/work-orders/{number}/transitions", headers=c.vendor_agent.headers, json={"to": "returned"}
    )
    assert r.status_code == 409 and "waiting for its answer" in r.json()["detail"]
    # Sent to the organisation (no team named): its reception queue holds it, its people may answer.
    queue = client.get(f"/api/v1/teams/{c.base_team}/queue", headers=c.base_agent.headers).json()
    assert number in [h["number"] for h in queue["organisation_waiting"]]


def test_roles_without_the_right_get_403_not_an_error(client: TestClient, chain: Chain, kefu: Kefu) -> None:
    c = chain
    number = vendor_case(client, c)
    auditor = make_actor(kefu, Role.AUDITOR)
    r = client.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=auditor.headers,
        json={"to_team_id": c.base_team, "instruction": "x"},
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM and "auditor" in r.json()["detail"]
    r = client.post(
        "/api/v1/routing-rules",
        headers=c.vendor_agent.headers,
        json={"name": "x", "position": 1, "team_id": c.base_team},
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    r = client.patch(f"/api/v1/agents/{c.base_agent.id}", headers=c.vendor_agent.headers, json={"capacity": 1})
    assert r.status_code == 403


def test_every_permission_has_a_sentence_for_its_refusal() -> None:
    from kefu.domain.org import Permission
    from kefu.services.access.authz import _ACTIONS

    assert set(_ACTIONS) == set(Permission)
