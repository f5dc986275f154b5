"""Administration pages through HTTP on SQLite and PostgreSQL: time-limit policies, calendar days,
teams, retiring a category — each change validated and in the change log; settings that affect every
organisation only for the top organisation's admins."""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.domain.sla import ClockName
from kefu.services.sla import admin as sla_admin
from tests.support.factories import new_user
from tests.support.pages import csrf_of, logged_in


def test_policies_calendar_days_teams_and_categories(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.ADMIN)  # of the top organisation
    page = client.get("/ui/admin/sla")
    assert page.status_code == 200 and "时限策略" in page.text
    csrf = csrf_of(page.text)
    admin = new_user(kefu, Role.ADMIN)
    policy = sla_admin.list_policies(kefu.ctx, admin)[-1]  # the catch-all policy, last in order
    form = {"csrf": csrf, "policy_id": str(policy.id), "active": "1", "target_first_response": "abc"}
    bad = client.post("/ui/admin/policy", data=form)
    assert bad.status_code == 422 and "必须是整数" in bad.text
    form.update(target_first_response="45", target_resolution="vip:600, *:1440", target_hop="vip:180, *:360")
    r = client.post("/ui/admin/policy", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/admin/sla"
    saved = next(p for p in sla_admin.list_policies(kefu.ctx, admin) if p.id == policy.id)
    assert saved.target_for(ClockName.RESOLUTION, "vip") == 600
    assert saved.target_for(ClockName.RESOLUTION, "standard") == 1440
    assert saved.target_for(ClockName.FIRST_RESPONSE, "standard") == 45
    assert ClockName.DIAGNOSIS not in saved.targets  # left empty: that clock no longer runs under it
    # A day off declared for next year's calendar; a bad date is refused.
    bad = client.post("/ui/admin/calendar-day", data={"csrf": csrf, "calendar": "office", "day": "31/12/2027"})
    assert bad.status_code == 422 and "2026-12-31" in bad.text
    ok = client.post(
        "/ui/admin/calendar-day",
        data={"csrf": csrf, "calendar": "office", "day": "2027-10-08", "note": "调休"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    # A team, then retiring a category.
    orgs = re.findall(r'<option value="(\d+)">', client.get("/ui/admin/teams").text)
    name = f"投诉处理组{secrets.token_hex(2)}"
    r = client.post(
        "/ui/admin/team",
        data={"csrf": csrf, "organisation_id": orgs[0], "name": name, "function": "quality"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and name in client.get("/ui/admin/teams").text
    r = client.post(
        "/ui/admin/category-active",
        data={"csrf": csrf, "code": "marketing.points", "active": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    log = client.get("/ui/admin/changes").text
    assert f"sla_policy {saved.name}" in log and "calendar_day office/2027-10-08" in log
    assert "category marketing.points" in log and f"team {name}" in log
    # A supervisor (even of the top organisation) sees these settings but changes none of them.
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        logged_in(other, kefu, Role.SUPERVISOR)
        page = other.get("/ui/admin/sla")
        assert page.status_code == 200 and 'id="read-only"' in page.text
        form = {"csrf": csrf_of(page.text), "code": "marketing.points", "active": "0"}
        assert other.post("/ui/admin/category-active", data=form).status_code == 403
        form = {"csrf": csrf_of(page.text), "calendar": "office", "day": "2027-10-09"}
        assert other.post("/ui/admin/calendar-day", data=form).status_code == 403
    # Without the CSRF token nothing changes; an agent may not use these pages.
    no_token = client.post("/ui/admin/category-active", data={"code": "marketing.points", "active": "1"})
    assert no_token.status_code == 422
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        logged_in(other, kefu, Role.AGENT)
        assert other.get("/ui/admin/categories").status_code == 403
        form = {"csrf": csrf_of(other.get("/ui/work-orders").text), "code": "marketing.points", "active": "0"}
        refused = other.post("/ui/admin/category-active", data=form)
        assert refused.status_code == 403 and "只有主管和管理员可以管理这些设置" in refused.text
    # Put things back for the other tests of this session's database.
    client.post("/ui/admin/category-active", data={"csrf": csrf, "code": "marketing.points", "active": "1"})
    sla_admin.save_policy(kefu.ctx, admin, policy)


def test_each_section_has_its_address_and_the_old_one_leads_there(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.SUPERVISOR)
    for name, shown in (
        ("categories", 'id="categories"'),
        ("teams", 'name="function"'),
        ("agents", 'id="agents"'),
        ("routing", 'id="rules"'),
        ("sla", 'action="/ui/admin/policy"'),
        ("templates", 'action="/ui/admin/template"'),
        ("changes", 'id="change-log"'),
    ):
        page = client.get(f"/ui/admin/{name}")
        assert page.status_code == 200 and shown in page.text, name
        assert f'class="queue current" href="/ui/admin/{name}"' in page.text
        old = client.get("/ui/admin", params={"tab": name}, follow_redirects=False)
        assert old.status_code == 303 and old.headers["location"] == f"/ui/admin/{name}"
    assert client.get("/ui/admin", follow_redirects=False).headers["location"] == "/ui/admin/categories"
    assert client.get("/ui/admin", params={"tab": "zzz"}, follow_redirects=False).headers["location"] == (
        "/ui/admin/categories"
    )
