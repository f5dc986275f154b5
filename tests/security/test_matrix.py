"""The permission matrix, generated from docs/SECURITY.md and tried on every route of the application,
on SQLite and PostgreSQL (one database each, shared by every test of this module).

* Every route of the application (API and pages, from app.routes) is mapped to an action of the
  matrix (tests/security/routes.py); a route that is not fails the first test.
* Each route is called as every role of the HQ (the top organisation), a sibling province and a
  vendor — and without credentials — against province A's objects: what the matrix does not allow
  answers 403 or 404, never 5xx; what it allows gets through.
* Every answer is searched for A's secrets (numbers, notes, messages, instructions, rules, people)
  that the caller may not have, and for unmasked personal data (phone, ID number, e-mail, address,
  fault place, site address) where the caller has no pii.view or is a vendor.
* The vendor reads the work order A dispatched to it: masked, without A's internal notes or the hops
  between the operator's organisations.
* Escalations: becoming operator staff, raising one's role, editing those above, creating admins.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from kefu.adapters.db.migrate import upgrade
from kefu.domain.org import Permission, Role, role_may
from kefu.services.access.accounts import NewUser, create_user, log_in
from kefu.services.access.tokens import create_api_token
from tests.security.matrix import MATRIX
from tests.security.routes import ROUTES, Probe, Req
from tests.security.world import Actor, Case, World, build_world
from tests.support.databases import empty_database
from tests.support.factories import PASSWORD
from tests.support.kefus import make_kefu

CSRF = "matrix-csrf-token"
PUBLIC_API = ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/channels/")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with empty_database(request.param, tmp_path_factory.mktemp("matrix"), "kefu_matrix") as url:
        k = make_kefu(url)
        upgrade(k.engine)
        try:
            yield build_world(k)
        finally:
            k.engine.dispose()


@pytest.fixture(scope="module")
def probe_client(world: World) -> Iterator[TestClient]:
    from kefu.app import create_app

    with TestClient(create_app(world.kefu), base_url="http://127.0.0.1") as c:
        yield c


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, API and pages (HEAD left out; a mount answers GET)."""
    found = set()
    for route in iter_route_contexts(app.routes):
        methods: set[str] = set(getattr(route, "methods", None) or {"GET"})
        for method in methods - {"HEAD"}:
            found.add((method, str(route.path)))
    return found


#: Actions done by a parameter of a route mapped to another action, with the test that tries them.
BY_PARAMETER = {"unmask": "test_personal_data_is_unmasked_only_for_the_operators_roles_that_may (?unmask=true)"}


def test_every_route_joins_the_matrix(probe_client: TestClient) -> None:
    routes = app_routes(probe_client.app)  # type: ignore[arg-type]
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"routes missing from tests/security/routes.py (map each to a matrix action): {missing}"
    gone = sorted(set(ROUTES) - routes)
    assert not gone, f"tests/security/routes.py maps routes the application no longer has: {gone}"
    unknown = sorted({p.action for p in ROUTES.values()} - set(MATRIX))
    assert not unknown, f"actions not in the matrix of docs/SECURITY.md: {unknown}"
    unused = sorted(set(MATRIX) - {p.action for p in ROUTES.values()} - set(BY_PARAMETER))
    assert not unused, f"matrix actions no route does: {unused}"


# --- the runner ---------------------------------------------------------------------------------------


def send(client: TestClient, w: World, probe: Probe, case: Case, actor: Actor | None) -> tuple[Req, Response]:
    req = probe.build(w, case, actor)
    headers = {"Accept-Language": "en", "Cookie": f"kefu_csrf={CSRF}"}
    if actor is not None:
        session = log_in(w.kefu.ctx, actor.user.username, PASSWORD)[1] if probe.fresh_session else actor.session
        headers["Cookie"] += f"; kefu_session={session}"
        headers["Authorization"] = f"Bearer {actor.token}"
    form = {**req.form, "csrf": CSRF} if req.form is not None else None
    response: Response = client.request(
        req.method, req.url, params=req.params, json=req.json, data=form, headers=headers, follow_redirects=False
    )
    if probe.ends_sessions and actor is not None:
        actor.session = log_in(w.kefu.ctx, actor.user.username, PASSWORD)[1]
    return req, response


def reaches(probe: Probe, actor: Actor, case: Case, w: World) -> bool:
    """Whether the matrix lets this actor do the probe's action to the probe's target."""
    action = MATRIX[probe.action]
    if not action.allows(actor.role, actor.kind):
        return False
    if probe.target in ("none", "self", "list"):
        return True
    if probe.target == "other":
        return False
    if action.reach in ("staff", "anyone"):
        return True
    if action.reach in ("receiver", "own"):
        return False
    # An object of province A: the HQ reaches it (A is below it); the vendor reaches what A dispatched
    # to it (read only: it manages nothing of A's).
    if actor.where == "hq":
        return True
    return actor.where == "vendor" and case is w.a2 and probe.of_case and action.reach == "scope"


def _supplied(req: Req) -> str:
    return json.dumps([req.url, req.params, req.json, req.form], ensure_ascii=False)


def _is_page(url: str) -> bool:
    return not url.startswith("/api/")


def check(w: World, probe: Probe, case: Case, actor: Actor | None, req: Req, r: Response) -> list[str]:
    who = actor.name if actor else "anonymous"
    what = f"{req.method} {req.url} as {who}: {r.status_code}"
    problems = []
    if r.status_code >= 500:
        problems.append(f"{what} — a server error")
    location = r.headers.get("location", "")
    if MATRIX[probe.action].reach == "anyone":
        pass
    elif actor is None:
        if _is_page(req.url) and not req.url.startswith(PUBLIC_API):
            if not (r.status_code == 303 and location.startswith("/login")):
                problems.append(f"{what} — not sent to the login page")
        elif r.status_code != 401:
            problems.append(f"{what} — not 401")
    elif reaches(probe, actor, case, w):
        if probe.target == "list" and r.status_code not in probe.answers:
            problems.append(f"{what} — the matrix allows it: expected {probe.answers}")
        elif r.status_code in (401, 403, 404) or (location.startswith("/login") and not probe.fresh_session):
            problems.append(f"{what} — the matrix allows it")
    elif r.status_code not in (403, 404):
        problems.append(f"{what} — outside the matrix: only 403 or 404 may answer")
    body = r.content.decode("utf-8", "replace")
    supplied = _supplied(req)
    hidden = w.hidden_from(actor) if actor else w.secrets_of_a + w.secrets_of_a2_for_vendor + w.shown_to_vendor
    problems += [f"{what} — leaks {s!r}" for s in hidden if s in body and s not in supplied]
    if actor is None or actor.where != "hq" or not role_may(actor.role, Permission.PII_VIEW):
        problems += [f"{what} — unmasked {p!r}" for p in w.pii if p in body and p not in supplied]
    if actor is None or actor.where != "hq":
        problems += [f"{what} — shows {s!r}" for s in probe.outsider_absent if s in body]
    return problems


def try_everyone(client: TestClient, w: World, probe: Probe, case: Case) -> None:
    """The probe as every role of every organisation and as nobody; every problem in one report."""
    problems = []
    for actor in [*w.actors.values(), None]:
        req, r = send(client, w, probe, case, actor)
        problems += check(w, probe, case, actor, req, r)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_route_answers_as_the_matrix_says(probe_client: TestClient, world: World, method: str, path: str) -> None:
    try_everyone(probe_client, world, ROUTES[(method, path)], world.a1)


READS = sorted(k for k, p in ROUTES.items() if k[0] == "GET" and p.target == "A")


@pytest.mark.parametrize(("method", "path"), READS)
def test_the_vendor_reads_what_was_dispatched_to_it_and_nothing_more(
    probe_client: TestClient, world: World, method: str, path: str
) -> None:
    """A2 was dispatched by A to the HQ (answered) and then to the vendor: the vendor reads it, masked,
    without A's internal notes or the hop between A and the HQ; the sibling province still not."""
    try_everyone(probe_client, world, ROUTES[(method, path)], world.a2)


# --- escalations --------------------------------------------------------------------------------------


def fresh(w: World, where: str, role: Role) -> Actor:
    """A new user like the world's actor at `where` with `role` (escalations change their account)."""
    model = w.actor(where, role)
    user = create_user(
        w.kefu.ctx,
        NewUser(username=f"esc{secrets.token_hex(5)}", role=role, password=PASSWORD, team_id=model.user.team_id),
    )
    return Actor(where, role, user, create_api_token(w.kefu.ctx, user.username, name="matrix").token, "")


def api(client: TestClient, actor: Actor, method: str, url: str, body: Any = None) -> Response:
    r: Response = client.request(method, url, json=body, headers={"Authorization": f"Bearer {actor.token}"})
    return r


def test_nobody_moves_itself_into_another_organisation(probe_client: TestClient, world: World) -> None:
    """The vendor supervisor's way in: PATCH /api/v1/agents/{own id} {"team_id": <an operator team>}."""
    problems = []
    for where in ("hq", "sibling", "vendor"):
        for role in Role:
            me = fresh(world, where, role)
            r = api(probe_client, me, "PATCH", f"/api/v1/agents/{me.id}", {"team_id": world.a_field})
            allowed = where == "hq" and role in (Role.SUPERVISOR, Role.ADMIN)  # A is below the HQ
            if (r.status_code == 200) != allowed or r.status_code >= 500:
                problems.append(f"{me.name} moving itself to A's team: {r.status_code}")
            if not allowed:
                after = api(probe_client, me, "GET", "/api/v1/me").json()
                if after.get("team_id") != me.user.team_id:
                    problems.append(f"{me.name} changed its team anyway")
    assert not problems, "\n".join(problems)


def test_nobody_raises_a_role_above_its_own(probe_client: TestClient, world: World) -> None:
    problems = []
    for where in ("hq", "sibling", "vendor"):
        for role in Role:
            me = fresh(world, where, role)
            raised = api(probe_client, me, "PATCH", f"/api/v1/users/{me.id}", {"role": "admin"})
            made = api(
                probe_client,
                me,
                "POST",
                "/api/v1/users",
                {"username": f"made{me.id}", "password": PASSWORD, "role": "admin"},
            )
            supervisor = api(
                probe_client,
                me,
                "POST",
                "/api/v1/users",
                {"username": f"sup{me.id}", "password": PASSWORD, "role": "supervisor"},
            )
            admin = role is Role.ADMIN
            manager = role in (Role.SUPERVISOR, Role.ADMIN)
            for label, r, allowed in (
                ("raise itself to admin", raised, admin),
                ("create an admin", made, admin),
                ("create a supervisor", supervisor, manager),
            ):
                ok = r.status_code in (200, 201)
                if ok != allowed or (not allowed and r.status_code not in (403, 404)):
                    problems.append(f"{me.name} {label}: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_those_above_and_outside_are_out_of_reach(probe_client: TestClient, world: World) -> None:
    """The HQ's admin is edited only by the HQ's admins; a vendor never places anyone in the operator."""
    hq_admin = world.actor("hq", Role.ADMIN)
    problems = []
    for actor in world.actors.values():
        r = api(probe_client, actor, "PATCH", f"/api/v1/users/{hq_admin.id}", {"display_name": "集团管理员"})
        allowed = actor.where == "hq" and actor.role is Role.ADMIN
        if (r.status_code == 200) != allowed or (not allowed and r.status_code not in (403, 404)):
            problems.append(f"{actor.name} editing the HQ admin: {r.status_code}")
        r = api(probe_client, actor, "PATCH", f"/api/v1/agents/{hq_admin.id}", {"capacity": 1})
        if (r.status_code == 200) != allowed or (not allowed and r.status_code not in (403, 404)):
            problems.append(f"{actor.name} changing the HQ admin's profile: {r.status_code}")
    for role in (Role.SUPERVISOR, Role.ADMIN):
        vendor = world.actor("vendor", role)
        for body in (
            {"username": f"vin{role.value}1", "password": PASSWORD, "role": "agent", "team_id": world.a_field},
            {"username": f"vin{role.value}2", "password": PASSWORD, "role": "agent", "organisation_id": world.hq},
        ):
            r = api(probe_client, vendor, "POST", "/api/v1/users", body)
            if r.status_code not in (403, 404):
                problems.append(f"{vendor.name} creating operator staff {body}: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_lists_of_people_stay_inside_the_subtree(probe_client: TestClient, world: World) -> None:
    problems = []
    for actor in world.actors.values():
        for url in ("/api/v1/agents", "/api/v1/users"):
            r = api(probe_client, actor, "GET", url)
            if r.status_code == 403:
                continue
            orgs = {u["organisation_id"] for u in r.json()}
            allowed = {"hq": None, "sibling": {world.b}, "vendor": {world.vendor}}[actor.where]
            if allowed is not None and not orgs <= allowed:
                problems.append(f"{actor.name} {url} lists people of organisations {sorted(orgs - allowed)}")
    assert not problems, "\n".join(problems)


def test_personal_data_is_unmasked_only_for_the_operators_roles_that_may(
    probe_client: TestClient, world: World
) -> None:
    problems = []
    for actor in world.actors.values():
        r = api(
            probe_client, actor, "GET", f"/api/v1/customers/{world.customer_id}?unmask=true&reason=identity_verified"
        )
        allowed = actor.where == "hq" and role_may(actor.role, Permission.PII_VIEW)
        if allowed != (r.status_code == 200) or (not allowed and r.status_code not in (403, 404)):
            problems.append(f"{actor.name} unmasking A's customer: {r.status_code}")
        if allowed and r.json()["phone"] != world.phone:
            problems.append(f"{actor.name} got no unmasked phone")
    # The vendor reaches the customer through A2, but never unmasked, whatever its role.
    for role in Role:
        r = api(
            probe_client,
            world.actor("vendor", role),
            "GET",
            f"/api/v1/customers/{world.a2.customer_id}?unmask=true&reason=identity_verified",
        )
        if r.status_code != 403:
            problems.append(f"vendor:{role.value} unmasking: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_a_known_customer_calling_another_province(probe_client: TestClient, world: World) -> None:
    """The sibling province's agent takes the call (R15): it registers the work order by the caller's
    number, owns it, and sees the customer through it — masked — but none of A's history."""
    agent = world.actor("sibling", Role.AGENT)
    body = {
        "customer_id": world.customer_id,
        "type": "complaint",
        "category": "billing",
        "channel": "hotline",
        "title": "异地来电",
        "description": "客户在乙省来电",
    }
    assert api(probe_client, agent, "POST", "/api/v1/work-orders", body).status_code == 404
    wrong = api(probe_client, agent, "POST", "/api/v1/work-orders", {**body, "customer_phone": "13800000000"})
    assert wrong.status_code == 404
    r = api(probe_client, agent, "POST", "/api/v1/work-orders", {**body, "customer_phone": world.phone})
    assert r.status_code == 201, r.text
    mine = r.json()["number"]
    customer = api(probe_client, agent, "GET", f"/api/v1/customers/{world.customer_id}").json()
    assert customer["phone"] != world.phone and "*" in customer["phone"]
    timeline = api(probe_client, agent, "GET", f"/api/v1/customers/{world.customer_id}/timeline").text
    assert mine in timeline
    leaked = [s for s in world.hidden_from(agent) if s in timeline and not s.startswith("甲宽带") and "标签" not in s]
    assert not leaked, leaked
    assert world.a1.number not in api(probe_client, agent, "GET", "/api/v1/cti/screen-pop?caller=" + world.phone).text


def test_notifications_carry_no_personal_data(world: World) -> None:
    """Staff are told of hops and deadlines in their inbox: with numbers, never personal data."""
    with world.kefu.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT payload FROM outbox WHERE channel = 'inbox' UNION ALL SELECT payload FROM notifications")
        ).all()
    assert rows
    carried = [p for (payload,) in rows for p in world.pii if p in json.dumps(payload, ensure_ascii=False)]
    assert not carried, carried


def test_everyone_ends_its_own_sessions_and_tokens(probe_client: TestClient, world: World) -> None:
    """The account routes by id act on one's own sessions and tokens for every role of every
    organisation (the matrix tries them on A's agent's, which only who manages A's agent may end)."""
    from kefu.services.access.sessions import session_id_of

    problems = []
    for actor in world.actors.values():
        me = fresh(world, actor.where, actor.role)
        token = create_api_token(world.kefu.ctx, me.user.username, name="自己的令牌").credential.id
        session = log_in(world.kefu.ctx, me.user.username, PASSWORD)[1]
        with world.kefu.ctx.uow() as uow:
            session_id = session_id_of(world.kefu.ctx, uow, session)
        for url in (f"/api/v1/me/tokens/{token}", f"/api/v1/me/sessions/{session_id}"):
            r = api(probe_client, me, "DELETE", url)
            if r.status_code != 204:
                problems.append(f"{me.name} DELETE {url} of its own: {r.status_code}")
        if api(probe_client, me, "GET", "/api/v1/me/sessions").json():
            problems.append(f"{me.name} still has a session")
    assert not problems, "\n".join(problems)


def test_the_audit_log_is_read_within_the_subtree(probe_client: TestClient, world: World) -> None:
    """A's supervisor changed an engineer's region (a setting change in the audit log): the HQ's
    auditor and admin read it; the sibling province's and the vendor's do not, not even by naming A's
    supervisor, who is no one to them."""
    region = f"甲区{world.tag}"
    problems = []
    for actor in world.actors.values():
        r = api(probe_client, actor, "GET", "/api/v1/audit?action=setting.changed&subject_type=agent&limit=200")
        named = api(probe_client, actor, "GET", f"/api/v1/audit?actor={world.a_supervisor.username}")
        if actor.role not in (Role.AUDITOR, Role.ADMIN):
            if r.status_code != 403 or named.status_code != 403:
                problems.append(f"{actor.name} reads the audit log: {r.status_code}, {named.status_code}")
            continue
        top = actor.where == "hq"
        if r.status_code != 200 or (region in r.text) != top:
            problems.append(f"{actor.name} reading A's setting change: {r.status_code}, shown: {region in r.text}")
        if named.status_code != (200 if top else 422):
            problems.append(f"{actor.name} naming A's supervisor: {named.status_code}")
    assert not problems, "\n".join(problems)
