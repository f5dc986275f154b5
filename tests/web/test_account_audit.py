"""The accounts in the audit log (R35, B7): users created, logins (failed, succeeded once every login
step is done), logouts, second factors, passwords and reset codes, tokens, sessions ended and locks
lifted are rows of the one hash chain, and `kefu audit verify` finds it intact after a whole login,
two-factor and token flow. On SQLite and PostgreSQL, each on a database of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from kefu import cli
from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.services.access.passwords import issue_password_reset, reset_password
from kefu.services.access.tokens import create_api_token, revoke_api_token
from kefu.services.access.two_factor import reset_two_factor
from tests.support.databases import empty_database
from tests.support.factories import PASSWORD, new_user
from tests.support.kefus import seeded_kefu
from tests.support.pages import csrf_of, enrol_two_factor, post_login, totp_code

NEW_PASSWORD = "Oolong tea at ten"


@dataclass(frozen=True)
class Row:
    action: str
    actor_id: int | None
    subject_type: str | None
    subject_id: str | None
    origin: str | None
    details: dict[str, Any]


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Kefu, str]]:
    """kefu as installed (admins and supervisors log in with a second factor), on a new database."""
    with empty_database(request.param, tmp_path, "kefu_account_audit") as url:
        k = seeded_kefu(url, require_2fa_roles="admin,supervisor")
        yield k, url
        k.engine.dispose()


def rows(k: Kefu, after: int = 0) -> list[Row]:
    """The audit rows after `seq`, in their chain's order."""
    with k.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT action, actor_id, subject_type, subject_id, origin, details FROM audit_log "
                "WHERE seq > :after ORDER BY seq"
            ),
            {"after": after},
        ).all()
    return [
        Row(r.action, r.actor_id, r.subject_type, r.subject_id, r.origin, _json(r.details) if r.details else {})
        for r in found
    ]


def last_seq(k: Kefu) -> int:
    with k.engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_log")).scalar_one())


def _json(value: str | dict[str, Any]) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def kefu_cli(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args), env={"KEFU_DATABASE_URL": url, "KEFU_ENVIRONMENT": "test"})
    return result.exit_code, result.stdout


def test_a_whole_login_two_factor_and_token_flow_is_audited_and_verifies(site: tuple[Kefu, str]) -> None:
    k, url = site
    admin = new_user(k, Role.ADMIN)
    supervisor = new_user(k, Role.SUPERVISOR)
    assert supervisor.id is not None
    created = [r for r in rows(k) if r.action == "user.created"]
    assert [(r.actor_id, r.subject_id, r.details["role"]) for r in created] == [
        (None, str(admin.id), "admin"),
        (None, str(supervisor.id), "supervisor"),
    ]

    with TestClient(create_app(k), base_url="http://127.0.0.1") as user:
        seq = last_seq(k)
        page = user.get("/login")
        for name, password in ((supervisor.username, "not-the-password-1"), ("nobody.here", PASSWORD)):
            data = {"username": name, "password": password, "csrf": csrf_of(page.text), "next": "/ui/work-orders"}
            assert user.post("/login", data=data).status_code == 401
        failed = rows(k, seq)
        assert [(r.action, r.actor_id, r.details["username"], r.details["address"]) for r in failed] == [
            ("login.failed", None, supervisor.username, "testclient"),
            ("login.failed", None, "nobody.here", "testclient"),
        ]
        assert failed[0].subject_id == str(supervisor.id) and failed[1].subject_id is None
        assert all(r.origin == "testclient" for r in failed)

        # The operator lifts the count of the unknown name at the console: an audit row without an actor.
        assert kefu_cli(url, "user", "unlock", "account", "nobody.here")[0] == 0
        (unlocked,) = rows(k, seq + 2)
        assert (unlocked.action, unlocked.actor_id, unlocked.details) == (
            "login.unlocked",
            None,
            {"scope": "account", "key": "nobody.here"},
        )

        # Password, then enrolment (the role requires it): the login succeeds once the session is complete.
        seq = last_seq(k)
        assert post_login(user, supervisor.username).startswith("/ui/account/two-factor")
        assert rows(k, seq) == []  # half-way: no login yet
        secret, _ = enrol_two_factor(user)
        assert [(r.action, r.actor_id) for r in rows(k, seq)] == [
            ("login.succeeded", supervisor.id),
            ("two_factor.changed", supervisor.id),
        ]
        assert rows(k, seq)[0].origin == "testclient" and rows(k, seq)[1].details == {"change": "enrolled"}

        seq = last_seq(k)
        user.post("/logout", data={"csrf": csrf_of(user.get("/ui/work-orders").text)})
        assert [(r.action, r.actor_id, r.subject_type) for r in rows(k, seq)] == [("logout", supervisor.id, "session")]

        # Password, then the code: one login, when the code is accepted.
        seq = last_seq(k)
        assert post_login(user, supervisor.username).startswith("/login/code")
        code_page = user.get("/login/code")
        r = user.post(
            "/login/code",
            data={"csrf": csrf_of(code_page.text), "code": totp_code(secret, steps_ahead=1)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert [(r.action, r.actor_id) for r in rows(k, seq)] == [("login.succeeded", supervisor.id)]

        seq = last_seq(k)
        form = user.get("/ui/account/password")
        changed = user.post(
            "/ui/account/password",
            data={
                "csrf": csrf_of(form.text),
                "current_password": PASSWORD,
                "password": NEW_PASSWORD,
                "repeat": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 200, changed.text
        assert [(r.action, r.actor_id, r.subject_id) for r in rows(k, seq)] == [
            ("password.changed", supervisor.id, str(supervisor.id))
        ]

    seq = last_seq(k)
    issued = create_api_token(k.ctx, supervisor.username, name="crm sync", days=30, actor=supervisor)
    revoke_api_token(k.ctx, supervisor, issued.credential.id)
    tokens = rows(k, seq)
    assert [(r.action, r.actor_id, r.subject_id, r.details["name"]) for r in tokens] == [
        ("token.issued", supervisor.id, str(issued.credential.id), "crm sync"),
        ("token.revoked", supervisor.id, str(issued.credential.id), "crm sync"),
    ]
    assert issued.token not in json.dumps([r.details for r in tokens])

    # An administrator hands over a reset code; the user sets a new password with it; the administrator
    # then resets the lost second factor. The sessions each ends are recorded with it.
    seq = last_seq(k)
    reset = issue_password_reset(k.ctx, admin, supervisor.id)
    reset_password(k.ctx, reset.code, NEW_PASSWORD + "!", address="10.9.8.7")
    reset_two_factor(k.ctx, admin, supervisor.id)
    assert [(r.action, r.actor_id, r.subject_id) for r in rows(k, seq)] == [
        ("password.reset", admin.id, str(supervisor.id)),
        ("sessions.ended", supervisor.id, str(supervisor.id)),
        ("password.changed", supervisor.id, str(supervisor.id)),
        ("two_factor.changed", admin.id, str(supervisor.id)),
    ]
    assert rows(k, seq)[2].origin == "10.9.8.7" and rows(k, seq)[2].details == {"with": "reset code"}
    assert reset.code not in json.dumps([r.details for r in rows(k, seq)])

    code, out = kefu_cli(url, "audit", "verify")
    assert code == 0, out
