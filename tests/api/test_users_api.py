"""Administration within the organisation subtree, through HTTP on SQLite and PostgreSQL: a province's
supervisor creates, changes, disables and re-enables the accounts of its province (API and pages),
never outside it or above its own role; a disabled account's tokens and sessions stop at once; a
province's routing rule routes only the province's work orders."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.errors import AuthenticationFailed
from kefu.domain.org import OrgTree, Role
from kefu.services.access.accounts import log_in
from kefu.services.access.tokens import authenticate_token
from tests.support.factories import (
    PASSWORD,
    Actor,
    make_actor,
    new_customer,
    new_organisation,
    new_team,
    new_work_order,
)
from tests.support.kefus import make_kefu
from tests.support.pages import csrf_of, login


@dataclass
class Province:
    org: int
    city: int
    reception: int
    field: int
    city_team: int
    other_team: int  # of another province
    top: int  # the top organisation
    supervisor: Actor
    admin: Actor  # of the top organisation


def _top(kefu: Kefu) -> int:
    with kefu.ctx.uow() as uow:
        top = OrgTree(uow.org.organisations()).top_id
    assert top is not None
    return top


@pytest.fixture
def province(client: TestClient, kefu: Kefu) -> Province:
    admin = make_actor(kefu, Role.ADMIN)
    org = new_organisation(client, admin, "甲省", "province")
    city = new_organisation(client, admin, "甲省乙市", "city", org)
    other = new_organisation(client, admin, "丙省", "province")
    reception = new_team(client, admin, org, "客户接待组", "reception")
    return Province(
        org=org,
        city=city,
        reception=reception,
        field=new_team(client, admin, org, "现场维修组", "field_repair"),
        city_team=new_team(client, admin, city, "乙市接待组", "reception"),
        other_team=new_team(client, admin, other, "丙省接待组", "reception"),
        top=_top(kefu),
        supervisor=make_actor(kefu, Role.SUPERVISOR, reception),
        admin=admin,
    )


def _create(client: TestClient, actor: Actor, **body: object) -> tuple[int, dict[str, object]]:
    r = client.post(
        "/api/v1/users",
        headers=actor.headers,
        json={"username": f"u{secrets.token_hex(4)}", "password": PASSWORD, **body},
    )
    return r.status_code, r.json()


def test_a_supervisor_administers_the_accounts_of_its_own_subtree(client: TestClient, province: Province) -> None:
    p, sup = province, province.supervisor
    status, agent = _create(client, sup, role="agent", team_id=p.reception)
    assert status == 201 and agent["organisation_id"] == p.org and agent["active"] is True
    status, plain = _create(client, sup, role="quality")
    assert status == 201 and plain["organisation_id"] == p.org  # its own organisation by default
    # Never above its own role, never outside its subtree.
    assert _create(client, sup, role="admin")[0] == 403
    assert _create(client, sup, role="agent", team_id=p.other_team)[0] == 403
    assert _create(client, sup, role="agent", organisation_id=p.top)[0] == 403
    listed = client.get("/api/v1/users", headers=sup.headers).json()
    assert {u["organisation_id"] for u in listed} <= {p.org, p.city}
    assert agent["id"] in {u["id"] for u in listed} and p.admin.id not in {u["id"] for u in listed}

    url = f"/api/v1/users/{agent['id']}"
    r = client.patch(url, headers=sup.headers, json={"role": "field_engineer", "team_id": p.city_team})
    assert r.status_code == 200 and r.json()["role"] == "field_engineer" and r.json()["organisation_id"] == p.city
    assert client.patch(url, headers=sup.headers, json={"role": "admin"}).status_code == 403
    assert client.patch(url, headers=sup.headers, json={"team_id": p.other_team}).status_code == 403
    assert client.patch(url, headers=sup.headers, json={"organisation_id": p.top}).status_code == 403
    # Outside the subtree an account does not exist; above one's role it is refused.
    assert (
        client.patch(f"/api/v1/users/{p.admin.id}", headers=sup.headers, json={"display_name": "x"}).status_code == 404
    )
    boss = make_actor_in(client, p, Role.ADMIN)
    assert client.patch(f"/api/v1/users/{boss}", headers=sup.headers, json={"display_name": "x"}).status_code == 403
    # The top organisation's admin reaches everyone.
    r = client.patch(url, headers=p.admin.headers, json={"display_name": "王工"})
    assert r.status_code == 200 and r.json()["display_name"] == "王工"


def make_actor_in(client: TestClient, p: Province, role: Role) -> int:
    status, made = _create(client, p.admin, role=role.value, team_id=p.reception)
    assert status == 201
    return int(str(made["id"]))


def test_a_disabled_account_stops_at_once_and_its_tokens_stay_revoked(
    client: TestClient, kefu: Kefu, province: Province
) -> None:
    p, sup = province, province.supervisor
    agent = make_actor(kefu, Role.AGENT, p.reception)
    assert client.get("/api/v1/me", headers=agent.headers).status_code == 200  # now in the token cache
    with TestClient(client.app, base_url="http://127.0.0.1") as browser:
        login(browser, agent.username)
        assert browser.get("/ui/work-orders").status_code == 200
        # Another process that asks the database every time (cache time 0) sees the account as it is.
        elsewhere = make_kefu(str(kefu.engine.url.render_as_string(hide_password=False)), cache_seconds=0)
        assert authenticate_token(elsewhere.ctx, agent.token) is not None
        r = client.patch(f"/api/v1/users/{agent.id}", headers=sup.headers, json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        assert client.get("/api/v1/me", headers=agent.headers).status_code == 401
        assert authenticate_token(elsewhere.ctx, agent.token) is None
        elsewhere.engine.dispose()
        page = browser.get("/ui/work-orders", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    with pytest.raises(AuthenticationFailed):
        log_in(kefu.ctx, agent.username, PASSWORD)
    # Enabled again: it may log in anew, but what was revoked stays revoked.
    assert client.patch(f"/api/v1/users/{agent.id}", headers=sup.headers, json={"active": True}).status_code == 200
    assert client.get("/api/v1/me", headers=agent.headers).status_code == 401
    with TestClient(client.app, base_url="http://127.0.0.1") as browser:
        login(browser, agent.username)
    # Nobody disables their own account.
    assert client.patch(f"/api/v1/users/{sup.id}", headers=sup.headers, json={"active": False}).status_code == 403


def test_the_users_page_creates_changes_and_disables_within_the_subtree(
    client: TestClient, kefu: Kefu, province: Province
) -> None:
    p = province
    login(client, p.supervisor.username)
    page = client.get("/ui/admin/users")
    assert page.status_code == 200 and 'id="users"' in page.text
    assert p.admin.username not in page.text and '<option value="admin"' not in page.text
    csrf = csrf_of(page.text)
    name = f"u{secrets.token_hex(4)}"
    form = {"csrf": csrf, "username": name, "password": PASSWORD, "role": "agent", "team_id": str(p.field)}
    r = client.post("/ui/admin/user", data=form, follow_redirects=False)
    assert r.status_code == 303 and name in client.get("/ui/admin/users").text
    refused = client.post("/ui/admin/user", data={**form, "username": name + "x", "role": "admin"})
    assert refused.status_code == 403
    created = next(u for u in client.get("/api/v1/users", headers=p.supervisor.headers).json() if u["username"] == name)
    r = client.post(
        "/ui/admin/user-change",
        data={"csrf": csrf, "user_id": str(created["id"]), "active": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=p.supervisor.headers).json()}
    assert listed[name]["active"] is False
    outside = client.post("/ui/admin/user-change", data={"csrf": csrf, "user_id": str(p.admin.id), "active": "0"})
    assert outside.status_code == 404


def test_a_provinces_routing_rule_routes_only_the_provinces_work_orders(
    client: TestClient, kefu: Kefu, province: Province
) -> None:
    p, sup = province, province.supervisor
    region = f"区{secrets.token_hex(3)}"
    rule = {
        "name": f"甲省规则{secrets.token_hex(3)}",
        "position": 1,
        "team_id": p.field,
        "conditions": {"regions": [region]},
    }
    # For every organisation, or to a team outside the province: the top organisation's admins only.
    assert client.post("/api/v1/routing-rules", headers=sup.headers, json=rule).status_code == 403
    assert (
        client.post(
            "/api/v1/routing-rules",
            headers=sup.headers,
            json={**rule, "organisation_id": p.org, "team_id": p.other_team},
        ).status_code
        == 403
    )
    r = client.post("/api/v1/routing-rules", headers=sup.headers, json={**rule, "organisation_id": p.org})
    assert r.status_code == 201, r.text
    mine = make_actor(kefu, Role.AGENT, p.city_team)  # a city of the province: its work orders are routed
    theirs = make_actor(kefu, Role.AGENT)  # the top organisation's: not the province's rule to route
    for actor, routed in ((mine, True), (theirs, False)):
        customer = new_customer(client, actor, region=region)
        wo = new_work_order(client, actor, customer["id"])
        assert (wo["team_id"] == p.field) is routed, (actor.username, wo["team_id"])
    # The province's rule is in the province's list, not in a sibling's.
    other = make_actor(kefu, Role.SUPERVISOR, p.other_team)
    assert rule["name"] in client.get("/api/v1/routing-rules", headers=sup.headers).text
    assert rule["name"] not in client.get("/api/v1/routing-rules", headers=other.headers).text


def test_work_orders_are_assigned_and_visits_booked_only_in_scope(
    client: TestClient, kefu: Kefu, province: Province
) -> None:
    p = province
    agent = make_actor(kefu, Role.AGENT, p.reception)
    number = new_work_order(client, agent, new_customer(client, agent)["id"])["number"]
    url = f"/api/v1/work-orders/{number}/assignment"
    assert client.post(url, headers=agent.headers, json={"team_id": p.other_team}).status_code == 422
    stranger = make_actor(kefu, Role.AGENT, p.other_team)
    assert client.post(url, headers=agent.headers, json={"handler_id": stranger.id}).status_code == 422
    assert client.post(url, headers=agent.headers, json={"team_id": p.field}).status_code == 200
    engineer = make_actor(kefu, Role.FIELD_ENGINEER, p.other_team)
    start = datetime.now(UTC) + timedelta(days=3)
    visit = {
        "engineer_id": engineer.id,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }
    r = client.post(f"/api/v1/work-orders/{number}/visits", headers=agent.headers, json=visit)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "engineer_id"


def test_a_person_added_through_the_api_may_be_asked_to_choose_a_password(
    client: TestClient, province: Province, kefu: Kefu
) -> None:
    status, person = _create(client, province.supervisor, role="agent", must_change_password=True)
    status2, robot = _create(client, province.supervisor, role="agent")
    assert status == status2 == 201
    with kefu.ctx.uow() as uow:
        asked, kept = uow.users.get(int(str(person["id"]))), uow.users.get(int(str(robot["id"])))
    assert asked is not None and asked.must_change_password and kept is not None and not kept.must_change_password
    assert _create(client, province.supervisor, role="agent", must_change_password="maybe")[0] == 422
