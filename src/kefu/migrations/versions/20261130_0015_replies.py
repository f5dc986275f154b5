"""replies: replies to the customer from the work order, canned replies' categories, outbound calls (issue #12)

Revision ID: 0015_replies
Revises: 0014_corrections
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kefu.adapters.db.types import UTCDateTime

revision = "0015_replies"
down_revision = "0014_corrections"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=100), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbound", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "replies",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("canned", sa.String(length=50), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("author_id", _ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("outbox_id", _ID, nullable=True),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("in_reply_to", sa.String(length=250), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_replies_author_id_users")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_replies_customer_id_customers")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_replies_outbox_id_outbox")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_replies_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
    )
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replies_work_order_id_id"), ["work_order_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_replies_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    op.drop_table("replies")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("outbound")
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_column("category")
