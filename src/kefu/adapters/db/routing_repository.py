"""Storage of routing rules and of the round-robin cursor of each team."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.tables import routing_cursors, routing_rules
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions

_CURSOR_OF = select(routing_cursors.c.last_user_id).where(routing_cursors.c.team_id == bindparam("team_id"))
_CURSOR_UPSERT = {
    name: dialect.insert(routing_cursors).on_conflict_do_update(
        index_elements=[routing_cursors.c.team_id],
        set_={"last_user_id": dialect.insert(routing_cursors).excluded.last_user_id},
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _rule(row: Any) -> RoutingRule:
    return RoutingRule(
        id=row.id,
        name=row.name,
        position=row.position,
        team_id=row.team_id,
        strategy=Strategy(row.strategy),
        conditions=Conditions.from_dict(row.conditions),
        fallback_team_id=row.fallback_team_id,
        active=row.active,
        organisation_id=row.organisation_id,
    )


class SqlRoutingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def rules(self) -> list[RoutingRule]:
        r = routing_rules.c
        return [_rule(row) for row in self.conn.execute(select(routing_rules).order_by(r.position, r.id))]

    def save_rule(self, rule: RoutingRule, *, actor_id: int, at: datetime) -> RoutingRule:
        values = {
            "name": rule.name,
            **rule.as_data(),
            "updated_at": at,
            "updated_by": actor_id,
        }
        if rule.id is None:
            new_id = self.conn.execute(insert(routing_rules).values(values).returning(routing_rules.c.id)).scalar_one()
            return replace(rule, id=new_id)
        self.conn.execute(update(routing_rules).where(routing_rules.c.id == rule.id).values(values))
        return rule

    def exists(self, rule_id: int) -> bool:
        return self.conn.execute(select(routing_rules.c.id).where(routing_rules.c.id == rule_id)).first() is not None

    def name_taken(self, name: str, other_than: int | None) -> bool:
        query = select(routing_rules.c.id).where(routing_rules.c.name == name)
        if other_than is not None:
            query = query.where(routing_rules.c.id != other_than)
        return self.conn.execute(query).first() is not None

    def last_assigned(self, team_id: int) -> int | None:
        return self.conn.execute(_CURSOR_OF, {"team_id": team_id}).scalar_one_or_none()

    def set_last_assigned(self, team_id: int, user_id: int) -> None:
        self.conn.execute(_CURSOR_UPSERT[self.conn.dialect.name], {"team_id": team_id, "last_user_id": user_id})
