"""Accounts through the pages (R32): changing one's password, the reset code an administrator hands
over, two-factor login (enrolment, codes, recovery codes, replay), the login steps that open nothing
else, sessions that end (one by one, all others, idle, absolute) and API tokens made and revoked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.adapters.db.tables import second_factors
from kefu.adapters.sealing import AesGcmSealer
from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.org import Role
from tests.support.databases import Database
from tests.support.factories import PASSWORD, make_actor, new_user
from tests.support.kefus import make_kefu
from tests.support.pages import csrf_of, enrol_two_factor, field_of, logged_in, login, post_login, totp_code

NEW_PASSWORD = "Jasmine tea at nine"


@pytest.fixture(scope="module")
def strict(database: Database) -> Iterator[FastAPI]:
    """kefu as installed: admins and supervisors must log in with a second factor."""
    k = make_kefu(database.url, require_2fa_roles="admin,supervisor", cache_seconds=30)
    yield create_app(k)
    k.engine.dispose()


def browser(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def test_changing_ones_password_asks_the_current_one_and_ends_the_other_sessions(app: FastAPI, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    with browser(app) as here, browser(app) as elsewhere:
        login(here, agent.username)
        login(elsewhere, agent.username)
        page = here.get("/ui/account/password")
        assert page.status_code == 200 and "修改密码" in page.text and "至少 12 个字符" in page.text
        form = {"csrf": csrf_of(page.text), "current_password": "not-it-at-all-9", "password": NEW_PASSWORD}
        wrong = here.post("/ui/account/password", data={**form, "repeat": NEW_PASSWORD})
        assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
        form["current_password"] = PASSWORD
        differ = here.post("/ui/account/password", data={**form, "repeat": NEW_PASSWORD + "!"})
        assert differ.status_code == 422 and "两次输入的密码不一致" in differ.text
        weak = here.post("/ui/account/password", data={**form, "password": "Password2026!", "repeat": "Password2026!"})
        assert weak.status_code == 422 and "常见密码或已泄露密码" in weak.text
        done = here.post("/ui/account/password", data={**form, "repeat": NEW_PASSWORD})
        assert done.status_code == 200 and "密码已修改" in done.text
        assert here.get("/ui/work-orders").status_code == 200  # this session goes on
        gone = elsewhere.get("/ui/work-orders", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert post_login(elsewhere, agent.username, NEW_PASSWORD) == "/ui/work-orders"


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("Short-1", "至少 12 个字符"),
        ("abcdefghijklmnop", "至少两类字符"),
        ("qwertyuiop12", "常见密码"),  # on the list itself
        ("Dragon2026!!!", "常见密码"),  # a common word with digits and symbols around it
        ("chinamobile#10086", "常见密码"),  # the operator's own name
        ("aaaa1111aaaa1111", "常见密码"),  # three characters or fewer, repeated
        ("{user}-is-me-42", "不能包含用户名"),
    ],
)
def test_the_password_policy_names_the_rule_broken(client: TestClient, kefu: Kefu, password: str, says: str) -> None:
    admin = logged_in(client, kefu, Role.ADMIN)
    target = new_user(kefu, Role.AGENT, prefix="policy")
    page = client.get(f"/ui/users/{target.id}/security")
    code = field_of(
        client.post(f"/ui/users/{target.id}/password-reset", data={"csrf": csrf_of(page.text)}).text,
        r'id="reset-code-value">([a-z0-9-]+)<',
    )
    typed = password.format(user=target.username)
    form = client.get(f"/password/reset?code={code}")
    r = client.post(
        "/password/reset", data={"csrf": csrf_of(form.text), "code": code, "password": typed, "repeat": typed}
    )
    assert r.status_code == 422 and says in r.text, r.text
    assert admin.role is Role.ADMIN


def test_an_administrator_hands_out_a_reset_code_that_works_once(client: TestClient, kefu: Kefu, app: FastAPI) -> None:
    logged_in(client, kefu, Role.ADMIN)
    target = new_user(kefu, Role.AGENT, prefix="forgot")
    page = client.get(f"/ui/users/{target.id}/security")
    assert page.status_code == 200 and "账户安全" in page.text and "没有 API 令牌" in page.text
    issued = client.post(f"/ui/users/{target.id}/password-reset", data={"csrf": csrf_of(page.text)})
    assert issued.status_code == 200 and "只显示这一次" in issued.text
    code = field_of(issued.text, r'id="reset-code-value">([a-z0-9-]+)<')
    assert f"/password/reset?code={code}" in issued.text
    assert PASSWORD not in issued.text
    with browser(app) as user:
        form = user.get(f"/password/reset?code={code}")
        assert form.status_code == 200 and f'value="{code}"' in form.text
        data = {"csrf": csrf_of(form.text), "code": code.upper(), "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        r = user.post("/password/reset", data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?done=password"
        assert "新密码已设置" in user.get(r.headers["location"]).text
        again = user.post("/password/reset", data=data)
        assert again.status_code == 401 and "重置码错误、已使用或已过期" in again.text
        assert post_login(user, target.username, NEW_PASSWORD) == "/ui/work-orders"


def test_a_reset_code_expires_and_a_newer_one_replaces_it(database: Database, kefu: Kefu) -> None:
    from kefu.domain.errors import AuthenticationFailed
    from kefu.services.access.passwords import issue_password_reset, reset_password

    clock = FixedClock(datetime.now(UTC))
    k = make_kefu(database.url, clock=clock)
    target = new_user(k, Role.AGENT, prefix="late")
    first = issue_password_reset(k.ctx, None, target.username)
    second = issue_password_reset(k.ctx, None, target.id or 0)
    with pytest.raises(AuthenticationFailed):
        reset_password(k.ctx, first.code, NEW_PASSWORD)
    clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(AuthenticationFailed):
        reset_password(k.ctx, second.code, NEW_PASSWORD)
    k.engine.dispose()


def test_must_change_at_login_opens_only_the_password_page(client: TestClient, kefu: Kefu, app: FastAPI) -> None:
    logged_in(client, kefu, Role.ADMIN)
    target = new_user(kefu, Role.AGENT, prefix="change")
    with browser(app) as user:
        login(user, target.username)
        page = client.get(f"/ui/users/{target.id}/security")
        r = client.post(f"/ui/users/{target.id}/password-reset", data={"csrf": csrf_of(page.text), "must_change": "1"})
        assert r.status_code == 200
        ended = user.get("/ui/work-orders", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
        step = post_login(user, target.username)
        assert step.startswith("/ui/account/password?next=")
        blocked = user.get("/ui/work-orders/new", follow_redirects=False)
        assert blocked.headers["location"].startswith("/ui/account/password")
        assert user.get("/api/v1/me").status_code == 401  # a session is not an API token either
        page = user.get(step)
        assert "管理员要求您先设置新密码" in page.text and "退出登录" in page.text
        data = {
            "csrf": csrf_of(page.text),
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
            "next": "/ui/work-orders/new",
        }
        done = user.post("/ui/account/password", data=data, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/ui/work-orders/new"
        assert user.get("/ui/work-orders/new").status_code == 200


def test_a_supervisor_enrols_then_logs_in_with_a_code_once(strict: FastAPI, kefu: Kefu) -> None:
    supervisor = make_actor(kefu, Role.SUPERVISOR)
    with browser(strict) as user:
        step = post_login(user, supervisor.username)
        assert step.startswith("/ui/account/two-factor?next=")
        for elsewhere in ("/ui/work-orders", "/ui/admin/categories", "/ui/account/tokens"):
            r = user.get(elsewhere, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/ui/account/two-factor"), elsewhere
        page = user.get(step)
        assert "必须使用两步验证登录" in page.text and 'class="segno"' in page.text and "腾讯身份验证器" in page.text
        wrong = user.post("/ui/account/two-factor/confirm", data={"csrf": csrf_of(page.text), "code": "000000"})
        assert wrong.status_code == 422 and "验证码错误或已使用" in wrong.text
        secret, codes = enrol_two_factor(user)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert user.get("/ui/work-orders").status_code == 200
        assert "两步验证已开启" in user.get("/ui/account/two-factor").text
        user.post("/logout", data={"csrf": csrf_of(user.get("/ui/work-orders").text)})

        assert post_login(user, supervisor.username).startswith("/login/code")
        assert user.get("/ui/work-orders", follow_redirects=False).headers["location"].startswith("/login/code")
        page = user.get("/login/code")
        replay = user.post("/login/code", data={"csrf": csrf_of(page.text), "code": totp_code(secret)})
        assert replay.status_code == 422 and "验证码错误或已使用" in replay.text  # the enrolment's code, again
        r = user.post(
            "/login/code",
            data={"csrf": csrf_of(page.text), "code": totp_code(secret, steps_ahead=1)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/work-orders"
        assert user.get("/ui/work-orders").status_code == 200

    with browser(strict) as phone_lost:
        post_login(phone_lost, supervisor.username)
        page = phone_lost.get("/login/code")
        r = phone_lost.post(
            "/login/code", data={"csrf": csrf_of(page.text), "code": codes[0].upper()}, follow_redirects=False
        )
        assert r.status_code == 303
        assert "剩余恢复码：9 个" in phone_lost.get("/ui/account/two-factor").text
    with browser(strict) as again:
        post_login(again, supervisor.username)
        page = again.get("/login/code")
        assert again.post("/login/code", data={"csrf": csrf_of(page.text), "code": codes[0]}).status_code == 422


def test_five_wrong_codes_end_the_login(strict: FastAPI, kefu: Kefu) -> None:
    admin = make_actor(kefu, Role.ADMIN)
    with browser(strict) as user:
        post_login(user, admin.username)
        enrol_two_factor(user)
        user.post("/logout", data={"csrf": csrf_of(user.get("/ui/work-orders").text)})
        post_login(user, admin.username)
        page = user.get("/login/code")
        answers = [user.post("/login/code", data={"csrf": csrf_of(page.text), "code": "123456"}) for _ in range(5)]
        assert [a.status_code for a in answers] == [422, 422, 422, 422, 401]
        assert "错误次数过多" in answers[-1].text
        assert user.get("/login/code", follow_redirects=False).headers["location"].startswith("/login?")


def test_the_totp_secret_is_sealed_at_rest(strict: FastAPI, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    with browser(strict) as user:
        login(user, agent.username)  # agents may enrol, they need not
        secret, _ = enrol_two_factor(user)
    with kefu.engine.connect() as conn:
        stored = conn.execute(select(second_factors.c.secret).where(second_factors.c.user_id == agent.id)).scalar_one()
    assert secret not in stored and stored.startswith("v1.")
    assert kefu.ctx.sealer.open(stored, bound_to=f"totp:{agent.id}") == secret
    with pytest.raises(ValueError):
        AesGcmSealer("another key entirely, 32 characters long").open(stored, bound_to=f"totp:{agent.id}")
    with pytest.raises(ValueError):
        kefu.ctx.sealer.open(stored, bound_to="totp:1")  # copied onto another user's row


def test_an_administrator_resets_a_lost_second_factor(strict: FastAPI, kefu: Kefu) -> None:
    supervisor = make_actor(kefu, Role.SUPERVISOR)
    admin = make_actor(kefu, Role.ADMIN)
    with browser(strict) as user, browser(strict) as boss:
        post_login(user, supervisor.username)
        enrol_two_factor(user)
        post_login(boss, admin.username)
        enrol_two_factor(boss)
        page = boss.get(f"/ui/users/{supervisor.id}/security")
        assert "开启于" in page.text
        r = boss.post(f"/ui/users/{supervisor.id}/two-factor-reset", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 200 and "其角色必须使用两步验证" in r.text
        assert user.get("/ui/work-orders", follow_redirects=False).headers["location"].startswith("/login")
        assert post_login(user, supervisor.username).startswith("/ui/account/two-factor")


def test_sessions_are_listed_and_ended_one_by_one_or_all_others(app: FastAPI, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    with browser(app) as here, browser(app) as phone, browser(app) as old:
        for c in (here, phone, old):
            login(c, agent.username)
        page = here.get("/ui/account/sessions")
        assert page.status_code == 200 and page.text.count('id="session-') == 3 and "当前会话" in page.text
        assert "testclient" in page.text  # the device, as the browser called itself
        ids = [int(i) for i in re.findall(r'id="session-(\d+)"', page.text)]
        mine = int(field_of(page.text, r'id="session-(\d+)" class="current"'))
        other = max(i for i in ids if i != mine)
        r = here.post(f"/ui/account/sessions/{other}/end", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 200 and r.text.count('id="session-') == 2
        ended = [c for c in (phone, old) if c.get("/ui/work-orders", follow_redirects=False).status_code == 303]
        assert len(ended) == 1  # at once: this process forgets the session as it ends it
        r = here.post("/ui/account/sessions/end-others", data={"csrf": csrf_of(page.text)})
        assert "您没有在其他地方登录" in r.text
        assert all(c.get("/ui/work-orders", follow_redirects=False).status_code == 303 for c in (phone, old))
        assert here.get("/ui/work-orders").status_code == 200
        assert here.post("/ui/account/sessions/²/end", data={"csrf": csrf_of(page.text)}).status_code == 422


def test_sessions_expire_when_idle_and_in_all(database: Database) -> None:
    clock = FixedClock(datetime.now(UTC))
    k = make_kefu(database.url, clock=clock, session_idle_minutes=30, session_hours=2)
    agent = make_actor(k, Role.AGENT)
    with TestClient(create_app(k), base_url="http://127.0.0.1") as user:
        login(user, agent.username)
        for _ in range(5):  # busy: 25 minutes apart, 100 minutes in all
            clock.advance(timedelta(minutes=25))
            assert user.get("/ui/work-orders").status_code == 200
        clock.advance(timedelta(minutes=25))  # 2 h 5 min after logging in
        assert user.get("/ui/work-orders", follow_redirects=False).status_code == 303
        login(user, agent.username)
        clock.advance(timedelta(minutes=31))
        assert user.get("/ui/work-orders", follow_redirects=False).status_code == 303
    k.engine.dispose()


def test_tokens_are_made_listed_and_revoked_on_the_page(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    page = client.get("/ui/account/tokens")
    assert page.status_code == 200 and "创建 API 令牌" in page.text
    tokens_before = page.text.count('id="token-')
    too_long = client.post("/ui/account/tokens", data={"csrf": csrf_of(page.text), "name": "报表", "days": "400"})
    assert too_long.status_code == 422 and "1 至 365 天" in too_long.text and 'value="报表"' in too_long.text
    made = client.post(
        "/ui/account/tokens", data={"csrf": csrf_of(page.text), "name": "报表同步", "days": "30", "read_only": "1"}
    )
    assert made.status_code == 200 and "只显示这一次" in made.text
    secret = field_of(made.text, r'id="token-secret">(kefu_[\w-]+)<')
    listed = client.get("/ui/account/tokens").text
    assert listed.count('id="token-') == tokens_before + 1
    assert secret not in listed and "报表同步" in listed and "只读" in listed
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == agent.username
    refused = client.post("/api/v1/customers", headers=headers, json={"name": "张三", "phone": "13900000000"})
    assert refused.status_code == 403 and "只读" in refused.json()["detail"]
    token_id = field_of(listed, r'id="token-(\d+)">\s*<td>报表同步')
    r = client.post(f"/ui/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(listed)})
    assert r.status_code == 200 and "报表同步" not in r.text
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_ended_session_stops_within_the_cache_ttl_in_another_process(database: Database) -> None:
    clock = FixedClock(datetime.now(UTC))
    here, there = (make_kefu(database.url, clock=clock, cache_seconds=30) for _ in range(2))
    agent = make_actor(here, Role.AGENT)
    with browser(create_app(here)) as mine, browser(create_app(there)) as other_server:
        login(other_server, agent.username)
        assert other_server.get("/ui/work-orders").status_code == 200  # checked, and remembered there
        login(mine, agent.username)  # the user, on the first server, ends every session but this one
        page = mine.get("/ui/account/sessions")
        mine.post("/ui/account/sessions/end-others", data={"csrf": csrf_of(page.text)})
        clock.advance(timedelta(seconds=20))
        assert other_server.get("/ui/work-orders").status_code == 200  # within its cache TTL
        clock.advance(timedelta(seconds=11))
        assert other_server.get("/ui/work-orders", follow_redirects=False).status_code == 303
    here.engine.dispose()
    there.engine.dispose()


def test_the_first_admin_chooses_a_password_then_enrols(strict: FastAPI, kefu: Kefu) -> None:
    from kefu.services.access.accounts import NewUser, create_user

    boss = create_user(
        kefu.ctx,
        NewUser(
            username=f"boss{datetime.now(UTC):%H%M%S%f}", role=Role.ADMIN, password=PASSWORD, must_change_password=True
        ),
    )
    with browser(strict) as user:
        step = post_login(user, boss.username, next="/ui/dashboard")
        assert step.startswith("/ui/account/password")
        page = user.get(step)
        data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "next": "/ui/dashboard"}
        r = user.post("/ui/account/password", data={"csrf": csrf_of(page.text), **data}, follow_redirects=False)
        assert r.headers["location"].startswith("/ui/account/two-factor?next=%2Fui%2Fdashboard")
        enrol_two_factor(user)
        assert user.get("/ui/dashboard").status_code == 200
