"""Logging in, hardened (R32): attempts from one address are rate-limited (429, Retry-After, a
Chinese page); failures lock the account and the address with a growing lock; a locked account,
an unknown username and a wrong password get the same answer after the same work, and only the
password that passes all that reaches the second factor, whose codes are rate-limited too; the
operator lists and lifts locks from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from kefu.app import create_app
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.clock import FixedClock
from kefu.domain.errors import AuthenticationFailed
from kefu.domain.org import Role
from kefu.services.access import accounts, lockout
from kefu.services.access.lockout import LockoutPolicy
from tests.support import ROOT
from tests.support.databases import Database, empty_database
from tests.support.factories import PASSWORD, new_user
from tests.support.hashing import FastHasher
from tests.support.kefus import GENEROUS_LIMITS, seeded_kefu
from tests.support.pages import csrf_of

SAME_ANSWER = "用户名或密码错误，或账号已停用。"


class CountingHasher(FastHasher):
    def __init__(self) -> None:
        self.verified: list[str] = []

    def verify(self, password: str, password_hash: str) -> bool:
        self.verified.append(password_hash.split("$")[0])
        return super().verify(password, password_hash)


@pytest.fixture
def url(database: Database, tmp_path: Path) -> Iterator[str]:
    with empty_database(database.backend, tmp_path, "kefu_login") as u:
        seeded_kefu(u).engine.dispose()
        yield u


def hardened(url: str, **settings: Any) -> Kefu:
    values: dict[str, Any] = {"environment": "test", "embedded_worker": False, "rate_limit_storage": "memory"}
    values["rate_limits"] = GENEROUS_LIMITS | settings.pop("rate_limits", {})
    return build(
        Settings(database_url=url, **values | settings),
        clock=FixedClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
        hasher=CountingHasher(),
    )


def post_login(c: TestClient, username: str, password: str) -> Any:
    page = c.get("/login")
    return c.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text), "next": "/ui/work-orders"},
        follow_redirects=False,
    )


def test_attempts_from_one_address_are_rate_limited_with_a_chinese_page(url: str) -> None:
    k = hardened(url, rate_limits={"login.address": "3/minute"})
    user = new_user(k, Role.AGENT)
    with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
        answers = [post_login(c, user.username, "wrong-password-1") for _ in range(3)]
        assert [r.status_code for r in answers] == [401, 401, 401]
        r = post_login(c, user.username, PASSWORD)
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 120
        assert "尝试次数过多" in r.text and "text/html" in r.headers["content-type"]
    k.engine.dispose()


def test_failures_lock_the_account_with_a_growing_lock_and_the_same_answer(url: str) -> None:
    k = hardened(url, lockout_account_failures=3, lockout_seconds=60, lockout_max_seconds=600)
    clock = k.ctx.clock
    assert isinstance(clock, FixedClock)
    user = new_user(k, Role.AGENT)
    with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
        for _ in range(3):
            assert post_login(c, user.username, "wrong-password-1").status_code == 401
        locked = post_login(c, user.username, PASSWORD)  # the right password, but locked
        assert locked.status_code == 401 and SAME_ANSWER in locked.text
        unknown = post_login(c, "nobody-at-all", "wrong-password-1")
        assert unknown.status_code == 401 and SAME_ANSWER in unknown.text
        [lock] = [x for x in lockout.locked_now(k.ctx) if x.key == user.username]
        assert lock.locked_until == clock.now() + timedelta(seconds=120)  # 4 failures: the lock doubled once
        clock.advance(timedelta(seconds=121))
        assert post_login(c, user.username, PASSWORD).status_code == 303  # the lock ran out
        assert not [x for x in lockout.locked_now(k.ctx) if x.key == user.username]  # and success cleared it
    k.engine.dispose()


def test_the_password_passes_the_lockout_before_the_second_factor_whose_codes_are_rate_limited(url: str) -> None:
    """The login path of both: the password goes through check_password (the lockout and its one
    answer) and only then opens the half-way session of the second factor; the codes typed there and
    at /password/reset are rate-limited per address like the password."""
    import pyotp

    limits = {"login.code.address": "2/minute", "password.reset.address": "2/minute"}
    k = hardened(url, lockout_account_failures=2, lockout_seconds=60, rate_limits=limits)
    clock = k.ctx.clock
    assert isinstance(clock, FixedClock)
    supervisor = new_user(k, Role.SUPERVISOR)
    with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
        step = post_login(c, supervisor.username, PASSWORD)
        assert step.status_code == 303 and step.headers["location"].startswith("/ui/account/two-factor")
        page = c.get("/ui/account/two-factor")
        secret = re.search(r'id="secret" class="secret">([A-Z2-7 ]+)<', page.text)
        assert secret is not None
        totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
        confirm = {"csrf": csrf_of(page.text), "code": totp.at(clock.now())}
        assert c.post("/ui/account/two-factor/confirm", data=confirm).status_code == 200
        c.post("/logout", data={"csrf": csrf_of(c.get("/ui/work-orders").text)})

        for _ in range(2):
            assert post_login(c, supervisor.username, "wrong-password-1").status_code == 401
        locked = post_login(c, supervisor.username, PASSWORD)  # the right password: locked, no code page
        assert locked.status_code == 401 and SAME_ANSWER in locked.text and "set-cookie" not in locked.headers
        clock.advance(timedelta(seconds=121))
        step = post_login(c, supervisor.username, PASSWORD)
        assert step.status_code == 303 and step.headers["location"].startswith("/login/code")
        assert c.get("/ui/work-orders", follow_redirects=False).headers["location"].startswith("/login/code")

        form = c.get("/login/code")
        answers = [c.post("/login/code", data={"csrf": csrf_of(form.text), "code": "000000"}) for _ in range(2)]
        assert [r.status_code for r in answers] == [422, 422]
        right = c.post("/login/code", data={"csrf": csrf_of(form.text), "code": totp.at(clock.now())})
        assert right.status_code == 429 and "尝试次数过多" in right.text and int(right.headers["Retry-After"]) >= 1

        reset = c.get("/password/reset")
        data = {"csrf": csrf_of(reset.text), "code": "abcd-efgh-ijkm-npqr", "password": "x", "repeat": "x"}
        assert [c.post("/password/reset", data=data).status_code for _ in range(3)] == [401, 401, 429]
    k.engine.dispose()


def test_the_lock_grows_to_its_longest_and_an_hour_without_failures_forgets() -> None:
    policy = LockoutPolicy(account_failures=5, first_lock=timedelta(minutes=1), longest_lock=timedelta(hours=1))
    assert [policy.lock_for("account", n) for n in (4, 5, 6, 7)] == [
        None,
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert policy.lock_for("account", 60) == timedelta(hours=1)
    assert policy.lock_for("address", 49) is None and policy.lock_for("address", 50) == timedelta(minutes=1)


def test_every_refusal_does_the_same_work(url: str) -> None:
    """Unknown username, wrong password, locked account, inactive account: one password check
    against a hash of the installation's scheme, and the same database statements."""
    k = hardened(url, lockout_account_failures=2)
    hasher = k.ctx.hasher
    assert isinstance(hasher, CountingHasher)
    user = new_user(k, Role.AGENT)
    locked = new_user(k, Role.AGENT)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            accounts.check_password(k.ctx, locked.username, "wrong-password-1", address="10.0.0.9")
    statements: list[str] = []
    event.listen(k.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0]))
    work = {}
    for case, username, password in (
        ("unknown", "nobody-here", "wrong-password-1"),
        ("wrong password", user.username, "wrong-password-1"),
        ("locked", locked.username, PASSWORD),
        ("inactive", "system", "wrong-password-1"),
    ):
        hasher.verified.clear()
        statements.clear()
        with pytest.raises(AuthenticationFailed) as refused:
            accounts.check_password(k.ctx, username, password, address="10.0.0.1")
        work[case] = (list(hasher.verified), list(statements), refused.value.message)
    assert all(verified == ["test-pbkdf2-sha256"] for verified, _, _ in work.values()), work
    assert len({tuple(sql) for _, sql, _ in work.values()}) == 1, work
    assert len({message for _, _, message in work.values()}) == 1
    k.engine.dispose()


def test_the_operator_lists_and_lifts_locks_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'locks.db'}"
    k = seeded_kefu(db, lockout_account_failures=1)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            accounts.check_password(k.ctx, "wang.wei", "wrong-password-1", address="10.1.2.3")
    k.engine.dispose()
    env = {**os.environ, "KEFU_DATABASE_URL": db, "NO_COLOR": "1", "KEFU_LOCKOUT_ACCOUNT_FAILURES": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kefu.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
        )

    listed = cli("user", "locks")
    assert listed.returncode == 0 and "account\twang.wei\t2 failures" in listed.stdout, listed.stderr
    assert cli("user", "unlock", "account", "wang.wei").returncode == 0
    assert "wang.wei" not in cli("user", "locks").stdout
    assert cli("user", "unlock", "account", "wang.wei").returncode == 1
