"""The audit log and the work-order events are hash chains: `kefu audit verify` finds a row edited,
inserted or deleted behind the database's back (the triggers dropped first, as an intruder with the
owner's rights would), reports which table, which row and what is wrong, and exits non-zero. On
SQLite and PostgreSQL, each test on a database of its own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from typer.testing import CliRunner

from kefu import cli
from kefu.adapters.db.audit_repository import SqlAuditRepository
from kefu.bootstrap import Kefu
from kefu.domain.audit import GENESIS, AuditAction, Unmasking, UnmaskReason, chain_hash, event_content
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Role, User
from kefu.domain.workorders import Status
from kefu.services import audit
from kefu.services.customers import NewCustomer, get_customer
from kefu.services.org.reference import add_category
from kefu.services.workorders import commands
from tests.support.databases import empty_database
from tests.support.factories import new_user, registered_work_order, unique_phone
from tests.support.kefus import seeded_kefu


@dataclass
class Site:
    kefu: Kefu
    url: str
    admin: User
    numbers: list[str]

    @property
    def engine(self) -> Engine:
        return self.kefu.engine

    def verify(self) -> tuple[int, str]:
        """`kefu audit verify` against this database: (exit code, output)."""
        result = CliRunner().invoke(
            cli.app, ["audit", "verify"], env={"KEFU_DATABASE_URL": self.url, "KEFU_ENVIRONMENT": "test"}
        )
        return result.exit_code, result.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """A database with some history: work orders moved along, a setting changed, personal data
    shown, and the events sealed into the audit chain."""
    with empty_database(request.param, tmp_path, "kefu_chain") as url:
        k = seeded_kefu(url)
        admin = new_user(k, Role.ADMIN)
        numbers = []
        for n in range(3):
            wo = registered_work_order(k, admin, NewCustomer(name=f"客户{n}", phone=unique_phone()))
            commands.transition_work_order(k.ctx, admin, wo.number, Status.ACCEPTED)
            commands.add_note(k.ctx, admin, wo.number, f"第{n}次回访")
            get_customer(k.ctx, admin, wo.customer_id, unmask=Unmasking(UnmaskReason.IDENTITY_VERIFIED))
            numbers.append(wo.number)
        add_category(k.ctx, admin, code="broadband.audit_test", label_zh="审计测试", label_en="Audit test")
        seal_everything(k)
        yield Site(k, url, admin, numbers)
        k.engine.dispose()


def seal_everything(k: Kefu) -> None:
    """Seal every event so far: the first seal marks where the second ends, which waits for every
    transaction older than the first (on PostgreSQL, in the whole cluster) to end."""
    assert audit.seal_events(k.ctx, force=True) is not None
    deadline = time.monotonic() + 30
    while audit.seal_events(k.ctx, force=True) is None:
        assert time.monotonic() < deadline, "an old transaction kept the seal waiting for 30 s"
        time.sleep(0.1)


def drop_guards(conn: Connection) -> None:
    """What an intruder with the owner's rights does first: drop the triggers that refuse changes."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER audit_log_immutable ON audit_log"))
        conn.execute(text("DROP TRIGGER work_order_events_immutable ON work_order_events"))
    else:
        for table in ("audit_log", "work_order_events"):
            for action in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER {table}_{'no_' + action}"))


def one(conn: Connection, sql: str, **params: object) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def test_an_untouched_history_verifies_with_a_one_line_summary(site: Site) -> None:
    code, out = site.verify()
    assert code == 0, out
    assert out.count("\n") == 1 and out.startswith("intact: ")
    found = audit.verify_chains(site.kefu.ctx)
    assert found.intact and found.work_orders == 3 and found.seals == 2
    # Every event registered before the first seal is fixed in the audit chain by the second.
    with site.engine.connect() as conn:
        assert found.sealed_through == one(conn, "SELECT max(id) FROM work_order_events")
        kinds = [r[0] for r in conn.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
    assert kinds.count(AuditAction.PERSONAL_DATA_UNMASKED.value) == 3
    assert AuditAction.SETTING_CHANGED.value in kinds and kinds[-2:] == ["events.sealed", "events.sealed"]
    assert f"head {found.head[0]}:{found.head[1]}" in out if found.head else False


def test_the_rows_refuse_update_delete_and_truncate(site: Site) -> None:
    statements = ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"]
    if site.engine.dialect.name == "postgresql":
        statements += ["TRUNCATE audit_log", "TRUNCATE work_order_events CASCADE"]
    for sql in statements:
        with pytest.raises(Exception, match="immutable"), site.engine.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.parametrize(
    ("table", "which", "change"),
    [
        ("audit_log", "action = 'personal_data.unmasked' ORDER BY seq", "reason = 'legal_request'"),
        ("work_order_events", "kind = 'note_added' ORDER BY id", "note = '客户已满意'"),
    ],
)
def test_an_edited_row_is_reported(site: Site, table: str, which: str, change: str) -> None:
    with site.engine.begin() as conn:
        drop_guards(conn)
        target = one(conn, f"SELECT id FROM {table} WHERE {which} LIMIT 1")
        conn.execute(text(f"UPDATE {table} SET {change} WHERE id = :i"), {"i": target})
    code, out = site.verify()
    assert code == 1 and f"{table} id {target}: its contents no longer match its hash" in out, out


def test_a_forged_audit_row_is_reported(site: Site) -> None:
    with site.engine.begin() as conn:
        drop_guards(conn)
        head = conn.execute(text("SELECT seq, hash, actor_id FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor_id, action, details, prev_hash, hash) "
                "VALUES (:s, CURRENT_TIMESTAMP, NULL, 'setting.changed', '{}', :p, :h)"
            ),
            {"s": head.seq + 1, "p": head.hash, "h": "f" * 64},
        )
        forged = one(conn, "SELECT id FROM audit_log WHERE seq = :s", s=head.seq + 1)
    code, out = site.verify()
    assert code == 1 and f"audit_log id {forged}: its contents no longer match its hash (edited or forged)" in out


def test_a_deleted_audit_row_is_reported(site: Site) -> None:
    with site.engine.begin() as conn:
        drop_guards(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        after = one(conn, "SELECT id FROM audit_log WHERE seq = 3")
    code, out = site.verify()
    assert code == 1 and f"audit_log id {after}: row(s) with seq 2 before it are missing (deleted)" in out, out


def test_a_forged_event_is_reported(site: Site) -> None:
    """An event appended to a work order with a made-up hash; then one whose hash the intruder
    computed correctly: the work order's own count of its events still gives it away."""
    with site.engine.begin() as conn:
        drop_guards(conn)
        wo = conn.execute(text("SELECT id, event_seq FROM work_orders WHERE number = :n"), {"n": site.numbers[0]}).one()
        last = conn.execute(
            text("SELECT hash, actor_id FROM work_order_events WHERE work_order_id = :w AND seq = :s"),
            {"w": wo.id, "s": wo.event_seq},
        ).one()
        event = WorkOrderEvent(
            kind=EventKind.NOTE_ADDED, actor_id=last.actor_id, at=site.kefu.ctx.clock.now(), note="x"
        )
        forged = chain_hash(last.hash, event_content(wo.id, wo.event_seq + 1, event))
        conn.execute(
            text(
                "INSERT INTO work_order_events (work_order_id, kind, actor_id, at, note, data, seq, prev_hash, hash) "
                "VALUES (:w, 'note_added', :a, :at, 'x', '{}', :s, :p, :h)"
            ),
            {"w": wo.id, "a": last.actor_id, "at": event.at, "s": wo.event_seq + 1, "p": last.hash, "h": forged},
        )
        inserted = one(conn, "SELECT max(id) FROM work_order_events")
    code, out = site.verify()
    assert code == 1, out
    assert f"work_order_events id {inserted}: the work order records {wo.event_seq} events" in out


def test_deleted_events_are_reported_one_or_all(site: Site) -> None:
    with site.engine.begin() as conn:
        drop_guards(conn)
        wo = one(conn, "SELECT id FROM work_orders WHERE number = :n", n=site.numbers[1])
        conn.execute(text("DELETE FROM work_order_events WHERE work_order_id = :w AND seq = 2"), {"w": wo})
    code, out = site.verify()
    assert code == 1 and "row(s) with seq 2 before it are missing (deleted)" in out, out

    with site.engine.begin() as conn:
        whole = one(conn, "SELECT id FROM work_orders WHERE number = :n", n=site.numbers[2])
        recorded = one(conn, "SELECT event_seq FROM work_orders WHERE id = :w", w=whole)
        conn.execute(text("DELETE FROM work_order_events WHERE work_order_id IN (:a, :b)"), {"a": wo, "b": whole})
    code, out = site.verify()
    assert code == 1 and f"work_orders id {wo}: it records" in out, out
    found = audit.verify_chains(site.kefu.ctx)
    assert str(found.problems[0]).startswith(f"work_orders id {wo}: it records")
    assert recorded > 0


def test_a_rewritten_chain_is_caught_by_the_seal(site: Site) -> None:
    """The intruder edits an event and recomputes its hash and the hashes after it, and even
    lowers the work order's count: the work order's chain holds, but the seal in the audit chain
    still has the old hashes."""
    with site.engine.begin() as conn:
        drop_guards(conn)
        wo = one(conn, "SELECT id FROM work_orders WHERE number = :n", n=site.numbers[0])
        rows = conn.execute(
            text("SELECT * FROM work_order_events WHERE work_order_id = :w ORDER BY seq"), {"w": wo}
        ).all()
        prev = GENESIS
        for row in rows:
            note = "已电话确认" if row.kind == "note_added" else row.note
            event = WorkOrderEvent(
                kind=EventKind(row.kind),
                actor_id=row.actor_id,
                at=_aware(row.at),
                from_status=row.from_status,
                to_status=row.to_status,
                note=note,
                visibility=row.visibility,
                data=_json(row.data),
            )
            digest = chain_hash(prev, event_content(wo, row.seq, event))
            conn.execute(
                text("UPDATE work_order_events SET note = :n, prev_hash = :p, hash = :h WHERE id = :i"),
                {"n": note, "p": prev, "h": digest, "i": row.id},
            )
            prev = digest
    found = audit.verify_chains(site.kefu.ctx)
    assert not found.intact and "differ from what audit row" in str(found.problems[0]), found.problems
    code, out = site.verify()
    assert code == 1 and "TAMPERED work_order_events" in out


def test_an_anchor_kept_outside_catches_a_recomputed_audit_chain(site: Site) -> None:
    head = audit.verify_chains(site.kefu.ctx).head
    assert head is not None
    with site.engine.begin() as conn:  # drop the first row and chain the rest anew, all consistent
        drop_guards(conn)
        repo = SqlAuditRepository(conn.execution_options(kefu_write=True))
        kept = [r.entry for r, _ in repo.chain(1, 10_000)]
        conn.execute(text("DELETE FROM audit_log"))
        for entry in kept:
            repo.add(entry)
        repo.flush()
    assert audit.verify_chains(site.kefu.ctx).intact  # consistent again: only the anchor can tell
    found = audit.verify_chains(site.kefu.ctx, anchors={head[0]: head[1]})
    assert not found.intact and "recorded earlier" in str(found.problems[0])
    result = CliRunner().invoke(
        cli.app,
        ["audit", "verify", "--anchor", f"{head[0]}:{head[1]}"],
        env={"KEFU_DATABASE_URL": site.url, "KEFU_ENVIRONMENT": "test"},
    )
    assert result.exit_code == 1 and "TAMPERED audit_log" in result.stdout


def _aware(value: datetime | str) -> datetime:
    """A time as raw SQL gives it back: SQLite's text, PostgreSQL's datetime."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _json(value: str | dict[str, Any] | None) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else (value or {}))
