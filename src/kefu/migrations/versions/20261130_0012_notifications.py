"""notifications: staff e-mail and phone for copies of notifications, per-user choices of which
kinds go by e-mail or SMS, an index for the bell's unread count; the old hop_received template is
the kind "dispatched" now

Revision ID: 0012_notifications
Revises: 0011_search
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_notifications"
down_revision = "0011_search"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "kind", "channel", name=op.f("pk_notification_preferences")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_unread",
            ["user_id"],
            unique=False,
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        )
    op.execute("UPDATE notifications SET template = 'dispatched' WHERE template = 'hop_received'")
    op.execute("UPDATE outbox SET template = 'dispatched' WHERE template = 'hop_received' AND channel = 'inbox'")


def downgrade() -> None:
    op.execute("UPDATE outbox SET template = 'hop_received' WHERE template = 'dispatched' AND channel = 'inbox'")
    op.execute("UPDATE notifications SET template = 'hop_received' WHERE template = 'dispatched'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_notifications_unread",
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        )
    op.drop_table("notification_preferences")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("email")
