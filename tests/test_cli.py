"""The `kefu` command line, run as a real process against a fresh SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT


def kefu(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KEFU_DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "kefu.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
        input=stdin,
    )


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    assert kefu(path, "db", "upgrade").returncode == 0
    return path


def test_user_and_token_creation(tmp: Path) -> None:
    r = kefu(
        tmp, "user", "create", "--username", "lina", "--role", "agent", "--password-stdin", stdin="Secret-pass-123\n"
    )
    assert r.returncode == 0, r.stderr
    r = kefu(tmp, "token", "create", "--username", "lina", "--name", "crm sync", "--days", "30")
    # stdout: the token alone (for TOKEN=$(kefu token create ...)); its expiry on stderr.
    assert r.returncode == 0 and r.stdout.startswith("kefu_") and r.stdout.count("\n") == 1, r.stderr
    assert "valid until" in r.stderr and "only this once" in r.stderr
    token = r.stdout.strip()
    listed = kefu(tmp, "token", "list", "--username", "lina")
    assert listed.returncode == 0 and "crm sync" in listed.stdout and token not in listed.stdout
    token_id = re.search(r"token (\d+) \(crm sync\)", r.stderr)
    assert token_id
    r = kefu(tmp, "token", "revoke", token_id.group(1))
    assert r.returncode == 0 and "revoked" in r.stdout
    assert "crm sync" not in kefu(tmp, "token", "list").stdout


def test_passwords_never_come_from_the_command_line(tmp: Path) -> None:
    r = kefu(tmp, "user", "create", "--username", "x0", "--role", "agent", "--password", "Secret-pass-123")
    assert r.returncode != 0 and "No such option" in r.stderr
    # Without --password-stdin the password is asked at a hidden prompt, typed twice.
    r = kefu(tmp, "user", "create", "--username", "x3", "--role", "agent", stdin="Secret-pass-123\nSecret-pass-124\n")
    assert r.returncode != 0 and "do not match" in r.stderr


def test_reset_codes_and_second_factors_from_the_command_line(tmp: Path) -> None:
    r = kefu(
        tmp,
        "user",
        "create",
        "--username",
        "wangfei",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin="Tea-garden-2026\n",
    )
    assert r.returncode == 0, r.stderr
    r = kefu(tmp, "user", "reset-password", "--username", "wangfei")
    assert r.returncode == 0 and "/password/reset?code=" in r.stdout, r.stderr
    r = kefu(tmp, "user", "reset-2fa", "--username", "wangfei")
    assert r.returncode != 0 and "no second factor" in r.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["user", "create", "--username", "x1", "--role", "agent", "--password-stdin"], "at least 12"),
        (["user", "create", "--username", "x2", "--role", "boss", "--password-stdin"], "boss"),
        (["token", "create", "--username", "nobody"], "does not exist"),
        (["token", "revoke", "999999"], "does not exist"),
        (["token", "revoke", str(10**30)], "token_id"),
        (["user", "create", "--username", "x3", "--role", "agent", "--password-stdin", "--team", "²"], "team"),
        (["user", "create", "--username", "x4", "--role", "agent", "--password-stdin", "--team", str(10**30)], "team"),
        (["user", "unlock", "account", "nobody"], "does not exist"),
        (["mail-receiver", "--listen", "127.0.0.1:²"], "127.0.0.1:2525"),
    ],
)
def test_bad_input_exits_non_zero_with_a_sentence(tmp: Path, args: list[str], says: str) -> None:
    r = kefu(tmp, *args, stdin="Short-1\n" if "x1" in args else "Secret-pass-123\n")
    assert r.returncode != 0 and says in (r.stderr + r.stdout)
    assert "Traceback" not in r.stderr


def test_demo_data_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    import sqlite3

    dumps = []
    for run in ("a", "b"):
        path = tmp_path / run
        path.mkdir()
        assert kefu(path, "db", "upgrade").returncode == 0
        r = kefu(path, "demo-data", "--customers", "50", "--work-orders", "300", "--seed", "7")
        assert r.returncode == 0, r.stderr
        with sqlite3.connect(path / "cli.db") as db:
            dumps.append(
                db.execute(
                    "SELECT c.name, c.phone, w.category, w.title, w.description, w.status "
                    "FROM work_orders w JOIN customers c ON c.id = w.customer_id "
                    "ORDER BY w.id"
                ).fetchall()
            )
            events = db.execute("SELECT COUNT(*) FROM work_order_events").fetchone()[0]
            assert events >= 300
            # Open demo work orders get the clocks their history implies; finished ones none.
            open_without = db.execute(
                "SELECT COUNT(*) FROM work_orders w WHERE w.status NOT IN ('closed', 'cancelled', 'rejected') "
                "AND NOT EXISTS (SELECT 1 FROM work_order_clocks c WHERE c.work_order_id = w.id)"
            ).fetchone()[0]
            open_with = db.execute("SELECT COUNT(DISTINCT work_order_id) FROM work_order_clocks").fetchone()[0]
            assert open_without == 0 and open_with > 0
            # Demo work orders belong to their owners' organisation (data scope), and each handler's
            # open-load counter matches the work orders themselves.
            assert db.execute("SELECT COUNT(*) FROM work_orders WHERE organisation_id IS NULL").fetchone()[0] == 0
            wrong = db.execute(
                "SELECT COUNT(*) FROM users u WHERE open_assigned <> (SELECT COUNT(*) FROM work_orders w "
                "WHERE w.handler_id = u.id AND w.status NOT IN ('closed', 'cancelled', 'rejected'))"
            ).fetchone()[0]
            assert wrong == 0
    assert len(dumps[0]) == 300 and dumps[0] == dumps[1]


def test_first_run_prints_the_demo_people_and_their_password(tmp_path: Path) -> None:
    """A new user was never told the demo people's password; the README's first example made `lina`,
    whom the demo data had made already."""
    from kefu.config import DEV_SECRET
    from kefu.services.access.demo import DEMO_PEOPLE, demo_password

    assert kefu(tmp_path, "db", "upgrade").returncode == 0
    assert kefu(tmp_path, "demo-data", "--customers", "5", "--work-orders", "5").returncode == 0
    r = kefu(tmp_path, "first-run")  # the demo data is there already: it only prints
    assert r.returncode == 0, r.stderr
    assert f"password of each: {demo_password(DEV_SECRET)}" in r.stdout
    for username, _, role in DEMO_PEOPLE:
        assert re.search(rf"^  {username}\s+{role.value}\s", r.stdout, re.M), username
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"kefu user create --username (\S+)", readme)
    assert example and example.group(1) not in {name for name, _, _ in DEMO_PEOPLE}
