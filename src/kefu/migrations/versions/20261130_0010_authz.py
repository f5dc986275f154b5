"""authz: the organisation a customer belongs to, and the organisation whose work orders a routing
rule routes (permissions granted within an organisation subtree, docs/SECURITY.md)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_organisation_id_organisations"), "organisations", ["organisation_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_customers_organisation_id_id"), ["organisation_id", "id"], unique=False)
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_routing_rules_organisation_id_organisations"), "organisations", ["organisation_id"], ["id"]
        )
    # A customer belongs to the organisation of their first work order, else to the top organisation
    # (the first operator organisation without a parent). Existing rules stay installation-wide.
    op.execute(
        "UPDATE customers SET organisation_id = (SELECT w.organisation_id FROM work_orders w "
        "WHERE w.customer_id = customers.id AND w.organisation_id IS NOT NULL ORDER BY w.id LIMIT 1)"
    )
    op.execute(
        "UPDATE customers SET organisation_id = (SELECT min(o.id) FROM organisations o "
        "WHERE o.parent_id IS NULL AND o.kind NOT IN ('vendor', 'partner')) WHERE organisation_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_routing_rules_organisation_id_organisations"), type_="foreignkey")
        batch_op.drop_column("organisation_id")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_organisation_id_id"))
        batch_op.drop_constraint(batch_op.f("fk_customers_organisation_id_organisations"), type_="foreignkey")
        batch_op.drop_column("organisation_id")
