"""dispatch and field service

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_cursors",
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["last_user_id"], ["users.id"], name=op.f("fk_routing_cursors_last_user_id_users")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_routing_cursors_team_id_teams")),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_routing_cursors")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column(
            "conditions", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("fallback_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fallback_team_id"], ["teams.id"], name=op.f("fk_routing_rules_fallback_team_id_teams")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_routing_rules_team_id_teams")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_routing_rules_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_routing_rules_name")),
    )
    op.create_table(
        "checklist_steps",
        sa.Column("work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["done_by"], ["users.id"], name=op.f("fk_checklist_steps_done_by_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_checklist_steps_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", "position", name=op.f("pk_checklist_steps")),
    )
    op.create_table(
        "load_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delta", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_load_changes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_changes")),
    )
    with op.batch_alter_table("load_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_load_changes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dispatches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sender_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sender_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sender_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("receiver_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("receiver_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["accepted_by"], ["users.id"], name=op.f("fk_dispatches_accepted_by_users")),
        sa.ForeignKeyConstraint(["answered_by"], ["users.id"], name=op.f("fk_dispatches_answered_by_users")),
        sa.ForeignKeyConstraint(["parent_id"], ["dispatches.id"], name=op.f("fk_dispatches_parent_id_dispatches")),
        sa.ForeignKeyConstraint(
            ["receiver_org_id"], ["organisations.id"], name=op.f("fk_dispatches_receiver_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["receiver_team_id"], ["teams.id"], name=op.f("fk_dispatches_receiver_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["sender_org_id"], ["organisations.id"], name=op.f("fk_dispatches_sender_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["sender_team_id"], ["teams.id"], name=op.f("fk_dispatches_sender_team_id_teams")),
        sa.ForeignKeyConstraint(["sender_user_id"], ["users.id"], name=op.f("fk_dispatches_sender_user_id_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_dispatches_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
    )
    with op.batch_alter_table("dispatches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dispatches_active_org",
            ["receiver_org_id", "deadline_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('accepted', 'pending')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending')"),
        )
        batch_op.create_index(
            "ix_dispatches_active_team",
            ["receiver_team_id", "deadline_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('accepted', 'pending')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending')"),
        )
        batch_op.create_index(batch_op.f("ix_dispatches_work_order_id_id"), ["work_order_id", "id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("engineer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column(
            "tools", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "parts", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("diagnosis", sa.Text(), nullable=True),
        sa.Column("repair_actions", sa.Text(), nullable=True),
        sa.Column("function_test_passed", sa.Boolean(), nullable=True),
        sa.Column("function_test_note", sa.Text(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("site_cleaned", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_visits_created_by_users")),
        sa.ForeignKeyConstraint(["engineer_id"], ["users.id"], name=op.f("fk_visits_engineer_id_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_visits_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visits_engineer_id_window_start"), ["engineer_id", "window_start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visits_work_order_id_id"), ["work_order_id", "id"], unique=False)

    op.create_table(
        "work_order_parties",
        sa.Column("work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_work_order_parties_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_parties_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", "organisation_id", name=op.f("pk_work_order_parties")),
    )
    with op.batch_alter_table("work_order_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_parties_organisation_id_work_order_id"),
            ["organisation_id", "work_order_id"],
            unique=False,
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "languages",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("capacity", sa.Integer(), server_default=sa.text("(20)"), nullable=False))
        batch_op.add_column(sa.Column("on_shift", sa.Boolean(), server_default=sa.text("(true)"), nullable=False))
        batch_op.add_column(sa.Column("open_assigned", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.create_index(batch_op.f("ix_users_team_id_open_assigned"), ["team_id", "open_assigned"], unique=False)

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        # The foreign key goes with the column: SQLite can add it so, without rebuilding the table.
        batch_op.add_column(
            sa.Column(
                "organisation_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.ForeignKey("organisations.id", name=op.f("fk_work_orders_organisation_id_organisations")),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_work_orders_handler_id_id"), ["handler_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_organisation_id_id"), ["organisation_id", "id"], unique=False)

    # Existing work orders belong to their first-ask owner's organisation.
    op.execute(
        "UPDATE work_orders SET organisation_id = "
        "(SELECT organisation_id FROM users WHERE users.id = work_orders.owner_id)"
    )
    op.execute(
        f"UPDATE users SET open_assigned = (SELECT count(*) FROM work_orders "
        f"WHERE work_orders.handler_id = users.id AND work_orders.{_OPEN})"
    )
    _create_load_triggers()


# The open statuses as of this revision (kefu.adapters.db.tables.OPEN_PREDICATE then).
_OPEN = "status IN ('accepted', 'callback', 'dispatched', 'in_progress', 'new', 'pending', 'resolved', 'returned')"


def _create_load_triggers() -> None:
    """The open work orders a user handles = users.open_assigned + their load_changes rows, which
    the database appends on every insert and update of work_orders, so no code path (service,
    worker, bulk load) can forget it."""
    old_open, new_open = _OPEN.replace("status", "OLD.status"), _OPEN.replace("status", "NEW.status")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION kefu_count_assigned() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    IF OLD.handler_id IS NOT DISTINCT FROM NEW.handler_id AND ({old_open}) = ({new_open}) THEN
                        RETURN NULL;
                    END IF;
                    IF OLD.handler_id IS NOT NULL AND {old_open} THEN
                        INSERT INTO load_changes (user_id, delta) VALUES (OLD.handler_id, -1);
                    END IF;
                END IF;
                IF NEW.handler_id IS NOT NULL AND {new_open} THEN
                    INSERT INTO load_changes (user_id, delta) VALUES (NEW.handler_id, 1);
                END IF;
                RETURN NULL;
            END $$;
        """)
        op.execute(
            "CREATE TRIGGER work_orders_count_assigned AFTER INSERT OR UPDATE OF handler_id, status "
            "ON work_orders FOR EACH ROW EXECUTE FUNCTION kefu_count_assigned()"
        )
    else:
        op.execute(f"""
            CREATE TRIGGER work_orders_assigned_insert AFTER INSERT ON work_orders
            WHEN NEW.handler_id IS NOT NULL AND {new_open}
            BEGIN INSERT INTO load_changes (user_id, delta) VALUES (NEW.handler_id, 1); END
        """)
        op.execute(f"""
            CREATE TRIGGER work_orders_assigned_update AFTER UPDATE OF handler_id, status ON work_orders
            WHEN OLD.handler_id IS NOT NEW.handler_id OR ({old_open}) <> ({new_open})
            BEGIN
                INSERT INTO load_changes (user_id, delta) SELECT OLD.handler_id, -1
                    WHERE OLD.handler_id IS NOT NULL AND {old_open};
                INSERT INTO load_changes (user_id, delta) SELECT NEW.handler_id, 1
                    WHERE NEW.handler_id IS NOT NULL AND {new_open};
            END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS work_orders_count_assigned ON work_orders")
        op.execute("DROP FUNCTION IF EXISTS kefu_count_assigned()")
    else:
        op.execute("DROP TRIGGER IF EXISTS work_orders_assigned_insert")
        op.execute("DROP TRIGGER IF EXISTS work_orders_assigned_update")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_work_orders_organisation_id_organisations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_work_orders_organisation_id_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_handler_id_id"))
        batch_op.drop_column("organisation_id")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_team_id_open_assigned"))
        batch_op.drop_column("open_assigned")
        batch_op.drop_column("on_shift")
        batch_op.drop_column("capacity")
        batch_op.drop_column("languages")

    with op.batch_alter_table("work_order_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_parties_organisation_id_work_order_id"))

    op.drop_table("work_order_parties")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_work_order_id_id"))
        batch_op.drop_index(batch_op.f("ix_visits_engineer_id_window_start"))

    op.drop_table("visits")
    with op.batch_alter_table("dispatches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatches_work_order_id_id"))
        batch_op.drop_index(
            "ix_dispatches_active_team",
            postgresql_where=sa.text("status IN ('accepted', 'pending')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending')"),
        )
        batch_op.drop_index(
            "ix_dispatches_active_org",
            postgresql_where=sa.text("status IN ('accepted', 'pending')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending')"),
        )

    op.drop_table("dispatches")
    op.drop_table("checklist_steps")
    with op.batch_alter_table("load_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_load_changes_user_id"))

    op.drop_table("load_changes")
    op.drop_table("routing_rules")
    op.drop_table("routing_cursors")
