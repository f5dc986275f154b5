"""tags and uploaded files: an organisation's tags, whether free tags are allowed, the tags of a work
order, files uploaded to a work order by agents and customers

Revision ID: 0013_tags
Revises: 0012_notifications
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_tags"
down_revision = "0012_notifications"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organisation_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_tags_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_organisation_id_name"), ["organisation_id", "name"], unique=True)
    op.create_table(
        "tag_settings",
        sa.Column("organisation_id", _ID, nullable=False),
        sa.Column("free_tags", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_tag_settings_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_tag_settings")),
    )
    op.create_table(
        "work_order_tags",
        sa.Column("work_order_id", _ID, nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", _ID, nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"], name=op.f("fk_work_order_tags_added_by_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_tags_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", "tag", name=op.f("pk_work_order_tags")),
    )
    with op.batch_alter_table("work_order_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_tags_tag_work_order_id"), ["tag", "work_order_id"], unique=False
        )
    op.create_table(
        "work_order_files",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", _ID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", _ID, nullable=False),
        sa.Column("by_customer", sa.Boolean(), nullable=False),
        sa.Column("customer_visible", sa.Boolean(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_work_order_files_uploaded_by_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_files_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_files")),
    )
    with op.batch_alter_table("work_order_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_files_work_order_id_id"), ["work_order_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_order_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_files_work_order_id_id"))
    op.drop_table("work_order_files")
    with op.batch_alter_table("work_order_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_tags_tag_work_order_id"))
    op.drop_table("work_order_tags")
    op.drop_table("tag_settings")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_organisation_id_name"))
    op.drop_table("tags")
