"""Storage on both databases: migrations from empty, immutable events, concurrent writers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.migrate import alembic_config, downgrade, upgrade
from kefu.adapters.db.tables import SQLITE_FTS_TABLES, metadata
from kefu.bootstrap import Kefu
from kefu.domain.errors import ConcurrentUpdate, InvalidTransition
from kefu.domain.org import Role, User
from kefu.domain.workorders import Channel, Status, WorkOrderType
from kefu.services.customers import NewCustomer
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries
from tests.support.databases import Database, empty_database
from tests.support.factories import make_actor, registered_work_order, unique_phone


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with empty_database(request.param, tmp_path, "kefu_mig") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_migrations_run_from_empty_match_the_tables_and_go_back(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        # SQLite's FTS5 search index is made by the migration only (virtual table, shadow tables).
        opts = {"include_name": lambda name, kind, _: not (kind == "table" and name in SQLITE_FTS_TABLES)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert diff == [], f"tables.py and the migrations disagree: {diff}"
    assert {"work_orders", "work_order_events", "customers", "idempotency_keys"} <= set(
        inspect(empty_engine).get_table_names()
    )
    downgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def test_there_is_one_head() -> None:
    from alembic.script import ScriptDirectory

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_the_checkouts_alembic_ini_uses_the_packaged_migrations() -> None:
    """alembic.ini is only for running `alembic` by hand; it must say what kefu's own configuration says."""
    from alembic.config import Config

    from kefu.adapters.db.migrate import MIGRATIONS
    from tests.conftest import ROOT

    by_hand, packaged = Config(str(ROOT / "alembic.ini")), alembic_config()
    assert Path(by_hand.get_main_option("script_location", "")).resolve() == MIGRATIONS
    assert Path(packaged.get_main_option("script_location", "")) == MIGRATIONS
    assert by_hand.get_main_option("file_template") == packaged.get_main_option("file_template")


def _new_order(kefu: Kefu) -> tuple[User, str]:
    agent = make_actor(kefu, Role.AGENT)
    from kefu.services.access.tokens import authenticate_token

    access = authenticate_token(kefu.ctx, agent.token)
    assert access is not None
    user = access.user
    customer = NewCustomer(name="赵六", phone=unique_phone())
    wo = registered_work_order(
        kefu, user, customer, category="broadband.slow_speed", title="网速慢", description="晚上测速只有2M"
    )
    return user, wo.number


def test_events_cannot_be_changed_or_deleted(kefu: Kefu) -> None:
    _, number = _new_order(kefu)
    for sql in (
        "UPDATE work_order_events SET note = 'x' WHERE work_order_id = (SELECT id FROM work_orders WHERE number = :n)",
        "DELETE FROM work_order_events WHERE work_order_id = (SELECT id FROM work_orders WHERE number = :n)",
    ):
        with pytest.raises(DBAPIError, match="immutable"), kefu.engine.begin() as conn:
            conn.execute(text(sql), {"n": number})


def test_timestamps_come_back_timezone_aware_utc(kefu: Kefu) -> None:
    user, number = _new_order(kefu)
    wo = queries.get_work_order(kefu.ctx, user, number)[0]
    assert wo.created_at.tzinfo is not None and wo.created_at.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - wo.created_at).total_seconds()) < 60


def test_two_agents_moving_the_same_work_order_at_once_never_both_win(kefu: Kefu, database: Database) -> None:
    """Both read version N and race to write: one commits, the other gets a conflict (409 in the API)."""
    if database.backend != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; the race needs PostgreSQL")
    user, number = _new_order(kefu)
    svc.transition_work_order(kefu.ctx, user, number, Status.ACCEPTED)
    svc.transition_work_order(kefu.ctx, user, number, Status.IN_PROGRESS)
    for _ in range(5):
        version = queries.get_work_order(kefu.ctx, user, number)[0].version
        before = len(queries.work_order_history(kefu.ctx, user, number)[0])
        barrier = threading.Barrier(2)
        results: list[object] = []

        def act(to: Status, note: str | None) -> None:
            barrier.wait()
            try:
                svc.transition_work_order(
                    kefu.ctx,
                    user,
                    number,
                    to,
                    note=note,
                    expected_version=version,
                )
                results.append("ok")
            except (ConcurrentUpdate, InvalidTransition) as exc:
                results.append(exc.code)

        threads = [
            threading.Thread(target=act, args=(Status.PENDING, None)),
            threading.Thread(target=act, args=(Status.RESOLVED, None)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results, key=str) == ["concurrent_update", "ok"], results
        after = queries.get_work_order(kefu.ctx, user, number)[0]
        assert after.version == version + 1
        assert len(queries.work_order_history(kefu.ctx, user, number)[0]) == before + 1
        # bring it back to in_progress for the next round
        svc.transition_work_order(kefu.ctx, user, number, Status.IN_PROGRESS)


def test_the_same_idempotency_key_at_once_makes_one_work_order(kefu: Kefu, database: Database) -> None:
    user, number = _new_order(kefu)
    first = queries.get_work_order(kefu.ctx, user, number)[0]
    new = svc.NewWorkOrder(
        customer_id=first.customer_id,
        type=WorkOrderType.COMPLAINT,
        category="billing.refund",
        channel=Channel.APP,
        title="退费",
        description="多扣了20元",
    )
    key = str(uuid.uuid4())
    barrier = threading.Barrier(4)
    numbers: list[str] = []

    def act() -> None:
        barrier.wait()
        numbers.append(svc.register_work_order(kefu.ctx, user, new, idempotency_key=key)[0].number)

    threads = [threading.Thread(target=act) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 4 and len(set(numbers)) == 1


def test_numbers_continue_after_a_bulk_load(kefu: Kefu) -> None:
    """A bulk load moves the day's numbering past what it loaded; the next live number follows."""
    from kefu.adapters.db import numbering

    _, first = _new_order(kefu)
    day = first[2:10]
    numbering.advance_to(kefu.engine, {day: int(first[10:]) + 100})
    _, second = _new_order(kefu)
    assert second == f"GD{day}{int(first[10:]) + 101:06d}"
    numbering.advance_to(kefu.engine, {day: 1})  # never moves backwards
    _, third = _new_order(kefu)
    assert third == f"GD{day}{int(first[10:]) + 102:06d}"


@pytest.mark.parametrize(
    ("migration", "name"),
    [
        ("20261121_0002_open_work_order_indexes.py", "OPEN_PREDICATE"),
        ("20261122_0004_dispatch_and_field_service.py", "_OPEN"),  # the open-load triggers
        ("20261122_0006_workspace.py", "_OPEN"),  # the partial index on the earliest deadline
    ],
)
def test_the_open_predicates_of_migrations_match_the_domain(migration: str, name: str) -> None:
    """Migrations are frozen copies: if the open statuses change, a new migration must follow."""
    import importlib.util

    from kefu.adapters.db.migrate import MIGRATIONS
    from kefu.adapters.db.tables import OPEN_PREDICATE

    spec = importlib.util.spec_from_file_location("migration", MIGRATIONS / "versions" / migration)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert getattr(module, name) == OPEN_PREDICATE


def test_the_audit_revision_chains_what_was_stored_before_it(empty_engine: Engine) -> None:
    """Revision 0009 moves the admin change log and the personal-data access log into the audit
    log, chains the events already stored, and leaves them as immutable as before."""
    from kefu.services.audit import verify_chains
    from tests.support.kefus import make_kefu

    upgrade(empty_engine, "0006")
    at = "2026-11-20 08:00:00"
    with empty_engine.begin() as conn:
        for sql in (
            "INSERT INTO users (id, username, display_name, role, password_hash, skills, created_at) "
            "VALUES (1, 'lina', '李娜', 'admin', 'x', '[]', :at)",
            "INSERT INTO customers (id, name, phone, tier, services, devices, tags, created_at, id_number) "
            "VALUES (1, '王小明', '13912345678', 'standard', '[]', '[]', '[]', :at, '11010519491231002X')",
            "INSERT INTO categories (code, label_zh, label_en) VALUES ('broadband', '宽带', 'Broadband')",
            "INSERT INTO work_orders (id, number, customer_id, type, category, channel, priority, title, "
            "description, status, owner_id, created_by, created_at, updated_at) VALUES (1, 'GD20261120000001', "
            "1, 'fault', 'broadband', 'hotline', 'P3', '断网', '红灯', 'accepted', 1, 1, :at, :at)",
            "INSERT INTO work_order_events (work_order_id, kind, actor_id, at, to_status, data) "
            "VALUES (1, 'created', 1, :at, 'new', '{}')",
            "INSERT INTO work_order_events (work_order_id, kind, actor_id, at, from_status, to_status, data) "
            "VALUES (1, 'status_changed', 1, :at, 'new', 'accepted', '{\"n\": 1.0}')",
            "INSERT INTO admin_changes (at, user_id, entity, key, before, after) "
            "VALUES (:at, 1, 'category', 'broadband', NULL, '{\"label_zh\": \"宽带\"}')",
            "INSERT INTO personal_data_access (user_id, customer_id, at, purpose) "
            "VALUES (1, 1, '2026-11-20 09:00:00', 'view work order GD20261120000001')",
        ):
            conn.execute(text(sql), {"at": at})
    upgrade(empty_engine)
    k = make_kefu(empty_engine.url.render_as_string(hide_password=False))
    try:
        found = verify_chains(k.ctx)
        assert found.intact, found.problems
        assert (found.audit_rows, found.work_orders, found.events) == (2, 1, 2)
        with empty_engine.connect() as conn:
            rows = conn.execute(text("SELECT action, subject_type, customer_id FROM audit_log ORDER BY seq")).all()
            assert [tuple(r) for r in rows] == [
                ("setting.changed", "category", None),
                ("personal_data.unmasked", "customer", 1),
            ]
            assert conn.execute(text("SELECT event_seq FROM work_orders")).scalar_one() == 2
        with pytest.raises(DBAPIError, match="immutable"), empty_engine.begin() as conn:
            conn.execute(text("UPDATE work_order_events SET note = 'x'"))
    finally:
        k.engine.dispose()
