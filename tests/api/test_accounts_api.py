"""Accounts through the API (R32): tokens that expire, carry a name and a scope, are listed without
their secret and revoked at once; changing one's password; and what an administrator may do to
whose account (require_manages_user: the organisation subtree, the rank, vendors apart)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.databases import Database
from tests.support.factories import PASSWORD, Actor, make_actor, new_organisation, new_user
from tests.support.pages import login

NEW_PASSWORD = "Osmanthus in autumn 8"


def _actor_in(kefu: Kefu, role: Role, organisation_id: int) -> Actor:
    from kefu.services.access.tokens import create_api_token

    user = new_user(kefu, role, organisation_id=organisation_id)
    assert user.id is not None
    return Actor(user.username, user.id, role, create_api_token(kefu.ctx, user.username, name="tests").token)


def test_a_token_has_a_name_an_expiry_and_a_scope_and_is_revoked_at_once(client: TestClient, agent: Actor) -> None:
    r = client.post("/api/v1/me/tokens", headers=agent.headers, json={"name": "夜间报表", "read_only": True})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["token"].startswith("kefu_") and made["scopes"] == ["read"] and made["name"] == "夜间报表"
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)  # not a year any more
    reader = {"Authorization": f"Bearer {made['token']}", "Accept-Language": "en"}
    assert client.get("/api/v1/me", headers=reader).status_code == 200
    refused = client.post("/api/v1/me/tokens", headers=reader, json={"name": "escalate"})
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]

    listed = client.get("/api/v1/me/tokens", headers=agent.headers).json()
    assert made["token"] not in str(listed) and {"id", "name", "scopes", "expires_at", "last_used_at"} <= set(listed[0])
    assert any(t["id"] == made["id"] and t["last_used_at"] for t in listed)  # used just now
    assert client.post("/api/v1/me/tokens", headers=agent.headers, json={"name": "x", "days": 4000}).status_code == 422
    too_long = client.post("/api/v1/me/tokens", headers=agent.headers, json={"name": "x", "days": 366})
    assert too_long.status_code == 422 and "365" in too_long.json()["detail"]
    assert client.post("/api/v1/me/tokens", headers=agent.headers, json={"name": ""}).status_code == 422

    assert client.delete(f"/api/v1/me/tokens/{made['id']}", headers=agent.headers).status_code == 204
    assert client.get("/api/v1/me", headers=reader).status_code == 401
    assert client.delete(f"/api/v1/me/tokens/{made['id']}", headers=agent.headers).status_code == 404


def test_someone_elses_token_is_neither_listed_nor_revoked(client: TestClient, kefu: Kefu) -> None:
    one, other = make_actor(kefu, Role.AGENT), make_actor(kefu, Role.AGENT)
    theirs = client.get("/api/v1/me/tokens", headers=other.headers).json()[0]["id"]
    assert client.delete(f"/api/v1/me/tokens/{theirs}", headers=one.headers).status_code == 403
    assert client.get(f"/api/v1/users/{other.id}/tokens", headers=one.headers).status_code == 403
    assert client.get("/api/v1/me", headers=other.headers).status_code == 200


def test_changing_the_password_through_the_api_ends_the_page_sessions(client: TestClient, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    login(client, agent.username)
    assert len(client.get("/api/v1/me/sessions", headers=agent.headers).json()) == 1
    body = {"current_password": PASSWORD, "new_password": "short"}
    r = client.post("/api/v1/me/password", headers=agent.headers, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    body["new_password"] = NEW_PASSWORD
    assert client.post("/api/v1/me/password", headers=agent.headers, json=body).status_code == 204
    assert client.get("/ui/work-orders", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me/sessions", headers=agent.headers).json() == []
    assert client.get("/api/v1/me", headers=agent.headers).status_code == 200  # the token goes on


def test_who_manages_whose_account(client: TestClient, kefu: Kefu) -> None:
    top = make_actor(kefu, Role.ADMIN)  # of the installation's top organisation
    home = client.get("/api/v1/me", headers=top.headers).json()
    with kefu.ctx.uow() as uow:
        home_org = uow.users.get(home["id"]).organisation_id  # type: ignore[union-attr]
    assert home_org is not None
    province = new_organisation(client, top, "广东省客服中心", "province", home_org)
    sibling = new_organisation(client, top, "广西区客服中心", "province", home_org)
    vendor = new_organisation(client, top, "终端厂商", "vendor")
    province_admin = _actor_in(kefu, Role.ADMIN, province)
    province_agent = _actor_in(kefu, Role.AGENT, province)
    sibling_agent = _actor_in(kefu, Role.AGENT, sibling)
    vendor_admin = _actor_in(kefu, Role.ADMIN, vendor)
    vendor_agent = _actor_in(kefu, Role.AGENT, vendor)
    supervisor = _actor_in(kefu, Role.SUPERVISOR, province)

    def reset(actor: Actor, target: Actor) -> int:
        r = client.post(f"/api/v1/users/{target.id}/password-reset", headers=actor.headers, json={})
        return int(r.status_code)

    assert reset(top, province_admin) == 201 and reset(top, vendor_agent) == 201
    assert reset(province_admin, province_agent) == 201
    assert reset(province_admin, sibling_agent) == 404  # outside its subtree: not confirmed to exist
    assert reset(province_admin, top) == 404
    # The permission model: a supervisor manages the roles it covers inside its subtree, no admin.
    assert reset(supervisor, province_agent) == 201
    assert reset(supervisor, province_admin) == 403  # a role with more permissions than its own
    assert reset(supervisor, sibling_agent) == 404
    assert reset(province_agent, supervisor) == 403  # agents manage no one's account
    assert reset(vendor_admin, vendor_agent) == 201
    assert reset(vendor_admin, province_agent) == 404  # vendors never manage operator staff
    assert reset(province_admin, vendor_agent) == 404

    issued = client.post(
        f"/api/v1/users/{province_agent.id}/password-reset",
        headers=province_admin.headers,
        json={"must_change_at_login": True},
    ).json()
    assert issued["path"] == f"/password/reset?code={issued['code']}" and issued["username"] == province_agent.username
    assert client.get(f"/api/v1/users/{sibling_agent.id}/sessions", headers=province_admin.headers).status_code == 404
    assert client.get(f"/api/v1/users/{province_agent.id}/tokens", headers=province_admin.headers).status_code == 200
    tokens = client.get(f"/api/v1/users/{province_agent.id}/tokens", headers=top.headers).json()
    wrong_owner = client.delete(f"/api/v1/users/{sibling_agent.id}/tokens/{tokens[0]['id']}", headers=top.headers)
    assert wrong_owner.status_code == 404
    assert (
        client.delete(f"/api/v1/users/{province_agent.id}/tokens/{tokens[0]['id']}", headers=top.headers).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=province_agent.headers).status_code == 401
    two_factor = client.get(f"/api/v1/users/{province_admin.id}/two-factor", headers=top.headers).json()
    assert two_factor == {"enabled": False, "enabled_at": None, "recovery_codes_left": 0, "required": False}
    none = client.delete(f"/api/v1/users/{province_admin.id}/two-factor", headers=top.headers)
    assert none.status_code == 409 and "no second factor" in none.json()["detail"]


def test_nobody_aims_an_administrators_recovery_action_at_their_own_account(client: TestClient, kefu: Kefu) -> None:
    """A stolen session or API token must not turn into the account: a reset code or removing the
    second factor skips the current password and code, so they are for other people's accounts only
    (oneself: change the password with the current one, turn 2FA off with a code)."""
    from kefu.domain.errors import PermissionDenied
    from kefu.services.access.passwords import issue_password_reset
    from kefu.services.access.two_factor import reset_two_factor

    admin = make_actor(kefu, Role.ADMIN)
    other = make_actor(kefu, Role.AGENT)
    assert client.post(f"/api/v1/users/{admin.id}/password-reset", headers=admin.headers, json={}).status_code == 403
    assert client.delete(f"/api/v1/users/{admin.id}/two-factor", headers=admin.headers).status_code == 403
    user = kefu.ctx.uow
    with user() as uow:
        me = uow.users.get(admin.id)
    assert me is not None
    for attempt in (
        lambda: issue_password_reset(kefu.ctx, me, admin.username),  # by username, not only by id
        lambda: reset_two_factor(kefu.ctx, me, admin.username.upper()),
    ):
        try:
            attempt()
        except PermissionDenied:
            pass
        else:
            raise AssertionError("a recovery action on one's own account went through")
    assert client.post(f"/api/v1/users/{other.id}/password-reset", headers=admin.headers, json={}).status_code == 201


def test_a_second_factor_sealed_under_another_server_key_is_a_clear_refusal(database: Database, kefu: Kefu) -> None:
    """After KEFU_SECRET_KEY changed, a stored TOTP secret no longer opens: the user is told to ask
    for a reset (a 409 with a sentence), not answered with a server error."""
    import pytest

    from kefu.domain.errors import StateConflict
    from kefu.services.access import two_factor
    from tests.support.kefus import make_kefu
    from tests.support.pages import totp_code

    user = new_user(kefu, Role.AGENT)
    enrolment = two_factor.begin_enrolment(kefu.ctx, user)
    two_factor.confirm_enrolment(kefu.ctx, user, totp_code(enrolment.secret))
    other = make_kefu(database.url, secret_key="another-server-key-" + "x" * 40)
    try:
        with pytest.raises(StateConflict, match="can no longer be read"):
            two_factor.turn_off(other.ctx, user, totp_code(enrolment.secret, steps_ahead=1))
    finally:
        other.engine.dispose()


def test_a_token_made_with_a_token_lives_no_longer_than_it(client: TestClient, kefu: Kefu) -> None:
    """A leaked token must not renew itself: what it makes expires with it."""
    from kefu.services.access.tokens import create_api_token

    user = new_user(kefu, Role.AGENT)
    short = create_api_token(kefu.ctx, user.username, name="短期", days=10)
    headers = {"Authorization": f"Bearer {short.token}"}
    child = client.post("/api/v1/me/tokens", headers=headers, json={"name": "续命", "days": 300})
    assert child.status_code == 201, child.text
    assert datetime.fromisoformat(child.json()["expires_at"]) == short.credential.expires_at
