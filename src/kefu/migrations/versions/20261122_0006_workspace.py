"""workspace

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "before", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "after", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_admin_changes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_changes")),
    )
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_changes_entity_key_id"), ["entity", "key", "id"], unique=False)

    op.create_table(
        "saved_filters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_saved_filters_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
    )
    with op.batch_alter_table("saved_filters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_filters_user_id_name"), ["user_id", "name"], unique=True)

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_work_orders_open_next_due_at",
            ["next_due_at"],
            unique=False,
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )
        batch_op.create_index(
            "ix_work_orders_open_team_id_id",
            ["team_id", "id"],
            unique=False,
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )
        batch_op.create_index(
            "ix_work_orders_open_organisation_id_status_team_id",
            ["organisation_id", "status", "team_id"],
            unique=False,
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )
    with op.batch_alter_table("work_order_clocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_clocks_breached_at",
            ["breached_at"],
            unique=False,
            postgresql_where=sa.text("breached_at IS NOT NULL"),
            sqlite_where=sa.text("breached_at IS NOT NULL"),
        )
    op.execute(
        "UPDATE work_orders SET next_due_at = (SELECT min(due_at) FROM work_order_clocks k "
        "WHERE k.work_order_id = work_orders.id AND k.phase = 'running')"
    )


# The open statuses as of this revision (kefu.adapters.db.tables.OPEN_PREDICATE then).
_OPEN = "status IN ('accepted', 'callback', 'dispatched', 'in_progress', 'new', 'pending', 'resolved', 'returned')"


def downgrade() -> None:
    with op.batch_alter_table("work_order_clocks", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_work_order_clocks_breached_at",
            postgresql_where=sa.text("breached_at IS NOT NULL"),
            sqlite_where=sa.text("breached_at IS NOT NULL"),
        )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_work_orders_open_organisation_id_status_team_id",
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )
        batch_op.drop_index(
            "ix_work_orders_open_team_id_id", postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN)
        )
        batch_op.drop_index(
            "ix_work_orders_open_next_due_at", postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN)
        )
        batch_op.drop_column("next_due_at")
    with op.batch_alter_table("saved_filters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_filters_user_id_name"))

    op.drop_table("saved_filters")
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_changes_entity_key_id"))
        batch_op.drop_index(batch_op.f("ix_admin_changes_at"))

    op.drop_table("admin_changes")
