"""Partial indexes on open work orders (priority, category)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The statuses of an open work order, sorted; must equal kefu.adapters.db.tables.OPEN_PREDICATE
# (tests/adapters/test_storage.py checks it).
OPEN_PREDICATE = (
    "status IN ('accepted', 'callback', 'dispatched', 'in_progress', 'new', 'pending', 'resolved', 'returned')"
)


def upgrade() -> None:
    for name, column in (
        ("ix_work_orders_open_priority_id", "priority"),
        ("ix_work_orders_open_category_id", "category"),
    ):
        op.create_index(
            name,
            "work_orders",
            [column, "id"],
            unique=False,
            postgresql_where=sa.text(OPEN_PREDICATE),
            sqlite_where=sa.text(OPEN_PREDICATE),
        )


def downgrade() -> None:
    op.drop_index("ix_work_orders_open_category_id", table_name="work_orders")
    op.drop_index("ix_work_orders_open_priority_id", table_name="work_orders")
