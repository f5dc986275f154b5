"""audit: one append-only, hash-chained audit log; work-order events chained per work order;
ID numbers wide enough for their ciphertext

The admin change log (admin_changes) and the personal-data access log (personal_data_access) move
into audit_log, chained in the order they happened, and are dropped. Every stored event gets its
place in its work order's chain. The hashes are computed by kefu.domain.audit, whose canonical
form never changes (the running code must agree with what this migration wrote).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from kefu.adapters.db.types import UTCDateTime
from kefu.adapters.db.workorder_repository import event_of
from kefu.domain.audit import GENESIS, AuditAction, AuditEntry, audit_content, chained, event_content

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BATCH = 5000

# The tables as this revision reads and writes them (typed, so JSON and times come back as values).
_events = sa.table(
    "work_order_events",
    sa.column("id", _ID),
    sa.column("work_order_id", _ID),
    sa.column("kind", sa.String()),
    sa.column("actor_id", _ID),
    sa.column("at", UTCDateTime()),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("note", sa.Text()),
    sa.column("visibility", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_audit = sa.table(
    "audit_log",
    sa.column("seq", sa.BigInteger()),
    sa.column("at", UTCDateTime()),
    sa.column("actor_id", _ID),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("customer_id", _ID),
    sa.column("reason", sa.String()),
    sa.column("origin", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_changes = sa.table(
    "admin_changes",
    sa.column("id", _ID),
    sa.column("at", UTCDateTime()),
    sa.column("user_id", _ID),
    sa.column("entity", sa.String()),
    sa.column("key", sa.String()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)
_access = sa.table(
    "personal_data_access",
    sa.column("id", _ID),
    sa.column("user_id", _ID),
    sa.column("customer_id", _ID),
    sa.column("at", UTCDateTime()),
    sa.column("purpose", sa.String()),
)

#: UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) are refused on these tables.
_IMMUTABLE = ("audit_log", "work_order_events")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    _create_audit_log()
    _move_old_logs()
    _drop_old_logs()
    _chain_events(pg)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("id_number", existing_type=sa.String(length=18), type_=sa.String(length=120))
    if pg:
        op.execute(
            """
            CREATE FUNCTION kefu_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME;
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION kefu_refuse_change()"
        )
        for table in _IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION kefu_refuse_change()"
            )
    else:
        for table in _IMMUTABLE:
            _sqlite_immutable(table)


def _sqlite_immutable(table: str) -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END"
        )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_audit_log_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_seq"), ["seq"], unique=True)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id_id"), ["actor_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_customer_id_id"), ["customer_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action_id"), ["action", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_subject_type_subject_id_id"), ["subject_type", "subject_id", "id"], unique=False
        )


def _move_old_logs() -> None:
    """The settings changes and the unmasked views recorded so far, as audit rows in time order."""
    conn = op.get_bind()
    entries: list[tuple[Any, int, int, AuditEntry]] = []
    for r in conn.execute(sa.select(_changes)):
        entry = AuditEntry(
            action=AuditAction.SETTING_CHANGED,
            at=r.at,
            actor_id=r.user_id,
            subject_type=r.entity,
            subject_id=r.key,
            details={"before": r.before, "after": r.after},
        )
        entries.append((r.at, 0, r.id, entry))
    for r in conn.execute(sa.select(_access)):
        entry = AuditEntry(
            action=AuditAction.PERSONAL_DATA_UNMASKED,
            at=r.at,
            actor_id=r.user_id,
            subject_type="customer",
            subject_id=str(r.customer_id),
            customer_id=r.customer_id,
            details={"record": r.purpose},  # no reason was asked for before this revision
        )
        entries.append((r.at, 1, r.id, entry))
    entries.sort(key=lambda e: e[:3])
    rows = chained((audit_content(seq, e[3]) for seq, e in enumerate(entries, start=1)), GENESIS)
    for start in range(0, len(rows), _BATCH):
        conn.execute(sa.insert(_audit), rows[start : start + _BATCH])


def _drop_old_logs() -> None:
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_changes_entity_key_id"))
        batch_op.drop_index(batch_op.f("ix_admin_changes_at"))
    op.drop_table("admin_changes")
    with op.batch_alter_table("personal_data_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_data_access_customer_id"))
    op.drop_table("personal_data_access")


def _chain_events(pg: bool) -> None:
    op.add_column("work_orders", sa.Column("event_seq", sa.Integer(), server_default=sa.text("0"), nullable=False))
    for name, type_ in (("seq", sa.Integer()), ("prev_hash", sa.String(length=64)), ("hash", sa.String(length=64))):
        op.add_column("work_order_events", sa.Column(name, type_, nullable=True))
    # The events are immutable: the guard is lifted while each gets its place in its chain.
    if pg:
        op.execute("ALTER TABLE work_order_events DISABLE TRIGGER work_order_events_immutable")
    else:
        op.execute("DROP TRIGGER IF EXISTS work_order_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS work_order_events_no_delete")
    conn = op.get_bind()
    for batch in _chained(conn):
        conn.execute(
            sa.update(_events)
            .where(_events.c.id == sa.bindparam("row_id"))
            .values(seq=sa.bindparam("s"), prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            batch,
        )
    op.execute(
        "UPDATE work_orders SET event_seq = "
        "(SELECT count(*) FROM work_order_events e WHERE e.work_order_id = work_orders.id)"
    )
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        for name, type_ in (("seq", sa.Integer()), ("prev_hash", sa.String(64)), ("hash", sa.String(64))):
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.drop_index(batch_op.f("ix_work_order_events_work_order_id_id"))
        batch_op.create_index(
            batch_op.f("ix_work_order_events_work_order_id_seq"), ["work_order_id", "seq"], unique=True
        )
    if pg:
        op.execute("ALTER TABLE work_order_events ENABLE TRIGGER work_order_events_immutable")
    # (SQLite: the triggers come back with the audit log's, at the end of upgrade.)


def _chained(conn: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The stored events in batches, each with its seq, previous hash and hash, work order by work order."""
    after: tuple[int, int] = (0, 0)
    current, seq, prev = None, 0, GENESIS
    while True:
        rows = conn.execute(
            sa.select(_events)
            .where(sa.tuple_(_events.c.work_order_id, _events.c.id) > sa.tuple_(*after))
            .order_by(_events.c.work_order_id, _events.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        out = []
        for r in rows:
            if r.work_order_id != current:
                current, seq, prev = r.work_order_id, 0, GENESIS
            seq += 1
            [row] = chained([event_content(r.work_order_id, seq, event_of(r))], prev)
            out.append({"row_id": r.id, "s": seq, "p": prev, "h": row["hash"]})
            prev = row["hash"]
        after = (rows[-1].work_order_id, rows[-1].id)
        yield out


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER IF EXISTS audit_log_immutable ON audit_log")
        for table in _IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS kefu_refuse_change()")
    else:
        for table in _IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    conn = op.get_bind()
    longest = conn.execute(sa.text("SELECT max(length(id_number)) FROM customers")).scalar()
    if longest is not None and longest > 18:
        raise RuntimeError("ID numbers are stored encrypted; this revision cannot go back past them")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("id_number", existing_type=sa.String(length=120), type_=sa.String(length=18))
    _restore_old_logs()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name in ("seq", "at", "actor_id_id", "customer_id_id", "action_id", "subject_type_subject_id_id"):
            batch_op.drop_index(batch_op.f(f"ix_audit_log_{name}"))
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_work_order_events_work_order_id_seq"), table_name="work_order_events")
    op.create_index(op.f("ix_work_order_events_work_order_id_id"), "work_order_events", ["work_order_id", "id"])
    for name in ("seq", "prev_hash", "hash"):
        op.execute(f"ALTER TABLE work_order_events DROP COLUMN {name}")  # native on both: the triggers stay
    op.execute("ALTER TABLE work_orders DROP COLUMN event_seq")
    if not pg:
        _sqlite_immutable("work_order_events")


def _restore_old_logs() -> None:
    op.create_table(
        "personal_data_access",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_personal_data_access_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_personal_data_access_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_access")),
    )
    with op.batch_alter_table("personal_data_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_access_customer_id"), ["customer_id"], unique=False)
    op.create_table(
        "admin_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("before", _JSON, nullable=True),
        sa.Column("after", _JSON, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_admin_changes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_changes")),
    )
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_changes_entity_key_id"), ["entity", "key", "id"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(_audit).order_by(_audit.c.seq)).all()
    changes = [
        {
            "at": r.at,
            "user_id": r.actor_id,
            "entity": r.subject_type,
            "key": r.subject_id,
            "before": r.details.get("before"),
            "after": r.details.get("after"),
        }
        for r in rows
        if r.action == AuditAction.SETTING_CHANGED.value and r.actor_id is not None
    ]
    views = [
        {
            "user_id": r.actor_id,
            "customer_id": r.customer_id,
            "at": r.at,
            "purpose": str(r.details.get("record") or r.reason or "")[:200] or "view",
        }
        for r in rows
        if r.action == AuditAction.PERSONAL_DATA_UNMASKED.value and r.actor_id is not None and r.customer_id
    ]
    if changes:
        conn.execute(sa.insert(_changes), changes)
    if views:
        conn.execute(sa.insert(_access), views)
