"""search: the segmented text of each work order and its full-text index (SQLite FTS5, PostgreSQL
tsvector with a GIN index)

Existing work orders are indexed here when there are at most BACKFILL_AT_MOST of them; a larger
installation is told to run `kefu search reindex` (in batches, while kefu runs).

Revision ID: 0011_search
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from kefu.adapters.db.search_repository import SqlSearchRepository
from kefu.adapters.db.tables import SQLITE_FTS

revision = "0011_search"
down_revision = "0010"
branch_labels = None
depends_on = None

BACKFILL_AT_MOST = 20_000

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_parts",
        sa.Column("work_order_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=10), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_search_parts_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", "kind", "ref", name=op.f("pk_search_parts")),
    )
    op.create_table(
        "search_documents",
        sa.Column("work_order_id", _ID, nullable=False),
        sa.Column("main", sa.Text(), nullable=False),
        sa.Column("more", sa.Text(), nullable=False),
        sa.Column("internal", sa.Text(), nullable=False),
        sa.Column("vector", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_search_documents_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_vector", "search_documents", ["vector"], postgresql_using="gin")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    existing = op.get_bind().execute(sa.text("SELECT count(*) FROM work_orders")).scalar_one()
    if 0 < existing <= BACKFILL_AT_MOST:
        search = SqlSearchRepository(op.get_bind())
        last: int | None = 0
        while last is not None:
            _, last = search.reindex(last, 500)
    elif existing:
        logging.getLogger("kefu.migrations").warning(
            "search: %d work orders are not in the search index yet; run `kefu search reindex`", existing
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_documents_vector", table_name="search_documents")
    op.drop_table("search_documents")
    op.drop_table("search_parts")
