"""`kefu backup` and `kefu restore`: a round trip gives back every row of every table, on SQLite and on
PostgreSQL; restoring refuses a database that is not empty unless --force, and a backup of the other
kind of database."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from kefu import cli
from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.tables import metadata
from kefu.domain.audit import Unmasking, UnmaskReason
from kefu.domain.org import Role
from kefu.domain.workorders import Status
from kefu.services.audit import verify_chains
from kefu.services.customers import NewCustomer, get_customer, register_customer
from kefu.services.workorders import commands
from tests.support.databases import empty_database
from tests.support.factories import new_user, registered_work_order, unique_phone
from tests.support.kefus import make_kefu, seeded_kefu


def kefu_cli(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args), env={"KEFU_DATABASE_URL": url, "KEFU_ENVIRONMENT": "test"})
    return result.exit_code, " ".join(result.output.split())  # as one line: the console wraps long ones


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema's version), in primary-key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(query)]
        out["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with customers (ID numbers encrypted), work orders with their events, messages
    waiting in the outbox and audit rows."""
    with empty_database(backend, tmp_path, "kefu_source") as url:
        k = seeded_kefu(url)
        admin = new_user(k, Role.ADMIN)
        for n in range(3):
            customer = NewCustomer(
                name=f"客户{n}", phone=unique_phone(), id_number="11010519491231002X", address="幸福路 8 号"
            )
            wo = registered_work_order(k, admin, customer)
            commands.transition_work_order(k.ctx, admin, wo.number, Status.ACCEPTED)
            commands.transition_work_order(k.ctx, admin, wo.number, Status.RESOLVED, note="已修复")
            get_customer(k.ctx, admin, wo.customer_id, unmask=Unmasking(UnmaskReason.FIELD_VISIT))
        k.engine.dispose()
        yield url


def test_a_round_trip_gives_back_every_row_of_every_table(source: str, backend: str, tmp_path: Path) -> None:
    file = tmp_path / "kefu.backup"
    code, out = kefu_cli(source, "backup", str(file))
    assert code == 0, out
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    code, out = kefu_cli(source, "backup", str(file))
    assert code == 1 and "exists already" in out

    with empty_database(backend, tmp_path, "kefu_restored") as target:
        code, out = kefu_cli(target, "restore", str(file))
        assert code == 0, out
        before, after = make_engine(source), make_engine(target)
        try:
            original, restored = rows(before), rows(after)
            # The restore records itself in the restored database: one audit row more.
            assert [r[4] for r in restored["audit_log"][len(original["audit_log"]) :]] == ["backup.restored"]
            restored["audit_log"] = restored["audit_log"][: len(original["audit_log"])]
            for name in original:
                assert restored[name] == original[name], f"{name} differs after the round trip"
            assert len(original["work_order_events"]) >= 9 and original["outbox"]
            assert original["audit_log"][-1][4] == "backup.created"  # the backup holds its own record
        finally:
            before.dispose()
            after.dispose()
        k = make_kefu(target)
        try:
            assert verify_chains(k.ctx).intact
            # The sequences came back too: new rows get new ids.
            admin = new_user(k, Role.ADMIN)
            assert register_customer(k.ctx, admin, NewCustomer(name="新客户", phone=unique_phone())).id
        finally:
            k.engine.dispose()

        code, out = kefu_cli(target, "restore", str(file))
        assert code == 1 and "not empty" in out
        code, out = kefu_cli(target, "restore", str(file), "--force")
        assert code == 0, out


def test_a_backup_of_the_other_kind_of_database_is_refused(backend: str, tmp_path: Path) -> None:
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP\x01\x0e" if backend == "sqlite" else b"SQLite format 3\x00")
    with empty_database(backend, tmp_path, "kefu_other") as target:
        code, out = kefu_cli(target, "restore", str(other))
    assert code == 1 and "is not a" in out
