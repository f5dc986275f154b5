"""Storage of dispatch hops, the organisations a work order was sent to, field visits, checklists
and routing rules."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.tables import (
    checklist_steps,
    dispatches,
    routing_cursors,
    routing_rules,
    visits,
    work_order_parties,
    work_orders,
)
from kefu.domain.checklists import ChecklistStep
from kefu.domain.dispatch import ACTIVE_HOP_STATUSES, Dispatch, HopStatus
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions
from kefu.domain.visits import Visit, VisitOutcome, VisitStatus

_ACTIVE = sorted(s.value for s in ACTIVE_HOP_STATUSES)
_DISPATCH_FIELDS = [f.name for f in fields(Dispatch) if f.name not in ("id", "version")]
_VISIT_FIELDS = [f.name for f in fields(Visit) if f.name not in ("id", "version")]
_CURSOR_OF = select(routing_cursors.c.last_user_id).where(routing_cursors.c.team_id == bindparam("team_id"))
_CURSOR_UPSERT = {
    name: dialect.insert(routing_cursors).on_conflict_do_update(
        index_elements=[routing_cursors.c.team_id],
        set_={"last_user_id": dialect.insert(routing_cursors).excluded.last_user_id},
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_PARTY_INSERT = {
    name: dialect.insert(work_order_parties).on_conflict_do_nothing()
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _dispatch(row: Any) -> Dispatch:
    values = {name: getattr(row, name) for name in _DISPATCH_FIELDS}
    values["status"] = HopStatus(row.status)
    return Dispatch(id=row.id, version=row.version, **values)


def _visit(row: Any) -> Visit:
    values = {name: getattr(row, name) for name in _VISIT_FIELDS}
    values["status"] = VisitStatus(row.status)
    values["outcome"] = VisitOutcome(row.outcome) if row.outcome else None
    values["tools"], values["parts"] = list(row.tools), list(row.parts)
    return Visit(id=row.id, version=row.version, **values)


def _plain(obj: Any, names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = value.value if hasattr(value, "value") else value
    return out


def _insert(conn: Connection, table: Any, obj: Any, names: list[str]) -> int:
    return int(
        conn.execute(insert(table).values(**_plain(obj, names), version=obj.version).returning(table.c.id)).scalar_one()
    )


def _save_versioned(conn: Connection, table: Any, obj: Any, names: list[str], expected_version: int) -> bool:
    """Store a part of a work order (a hop, a visit) only if nobody changed it since it was read."""
    result = conn.execute(
        update(table)
        .where(table.c.id == obj.id, table.c.version == expected_version)
        .values(**_plain(obj, names), version=expected_version + 1)
    )
    if result.rowcount != 1:
        return False
    obj.version = expected_version + 1
    return True


class SqlDispatchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, hop: Dispatch) -> Dispatch:
        hop.id = _insert(self.conn, dispatches, hop, _DISPATCH_FIELDS)
        # The receiving organisation may see the work order from now on (data scope).
        self.conn.execute(
            _PARTY_INSERT[self.conn.dialect.name],
            {"work_order_id": hop.work_order_id, "organisation_id": hop.receiver_org_id},
        )
        return hop

    def get(self, dispatch_id: int) -> Dispatch | None:
        row = self.conn.execute(select(dispatches).where(dispatches.c.id == dispatch_id)).first()
        return _dispatch(row) if row else None

    def save(self, hop: Dispatch, expected_version: int) -> bool:
        return _save_versioned(self.conn, dispatches, hop, _DISPATCH_FIELDS, expected_version)

    def of_work_order(self, work_order_id: int) -> list[Dispatch]:
        rows = self.conn.execute(
            select(dispatches).where(dispatches.c.work_order_id == work_order_id).order_by(dispatches.c.id)
        )
        return [_dispatch(r) for r in rows]

    def waiting_for(
        self, *, team_id: int | None = None, organisation_id: int | None = None, limit: int = 200
    ) -> list[tuple[Dispatch, str]]:
        """Hops waiting for an answer from a team (or an organisation's reception, when no team was
        named), earliest deadline first, with the work-order number."""
        d = dispatches.c
        query = (
            select(dispatches, work_orders.c.number.label("wo_number"))
            .join(work_orders, work_orders.c.id == d.work_order_id)
            .where(d.status.in_(_ACTIVE))
        )
        if team_id is not None:
            query = query.where(d.receiver_team_id == team_id)
        if organisation_id is not None:
            query = query.where(and_(d.receiver_org_id == organisation_id, d.receiver_team_id.is_(None)))
        rows = self.conn.execute(query.order_by(d.deadline_at.asc().nulls_last(), d.id).limit(limit))
        return [(_dispatch(r), r.wo_number) for r in rows]


class SqlVisitRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, visit: Visit) -> Visit:
        visit.id = _insert(self.conn, visits, visit, _VISIT_FIELDS)
        return visit

    def get(self, visit_id: int) -> Visit | None:
        row = self.conn.execute(select(visits).where(visits.c.id == visit_id)).first()
        return _visit(row) if row else None

    def save(self, visit: Visit, expected_version: int) -> bool:
        return _save_versioned(self.conn, visits, visit, _VISIT_FIELDS, expected_version)

    def of_work_order(self, work_order_id: int) -> list[Visit]:
        rows = self.conn.execute(select(visits).where(visits.c.work_order_id == work_order_id).order_by(visits.c.id))
        return [_visit(r) for r in rows]

    def of_engineers(
        self, engineer_ids: list[int], start: datetime, end: datetime, *, include_done: bool = True
    ) -> list[tuple[Visit, str]]:
        """Visits of these engineers whose window overlaps [start, end), in time order, with the
        work-order number."""
        if not engineer_ids:
            return []
        v = visits.c
        query = (
            select(visits, work_orders.c.number.label("wo_number"))
            .join(work_orders, work_orders.c.id == v.work_order_id)
            .where(v.engineer_id.in_(engineer_ids), v.window_start < end, v.window_end > start)
        )
        if not include_done:
            query = query.where(v.status.in_((VisitStatus.SCHEDULED.value, VisitStatus.ON_SITE.value)))
        return [(_visit(r), r.wo_number) for r in self.conn.execute(query.order_by(v.window_start, v.id))]


class SqlChecklistRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def steps(self, work_order_id: int) -> list[ChecklistStep]:
        c = checklist_steps.c
        rows = self.conn.execute(select(checklist_steps).where(c.work_order_id == work_order_id).order_by(c.position))
        return [ChecklistStep(r.position, r.code, r.done_at, r.done_by, dict(r.data)) for r in rows]

    def add(self, work_order_id: int, steps: list[ChecklistStep]) -> None:
        if steps:
            self.conn.execute(
                insert(checklist_steps),
                [
                    {
                        "work_order_id": work_order_id,
                        "position": s.position,
                        "code": s.code,
                        "done_at": s.done_at,
                        "done_by": s.done_by,
                        "data": s.data,
                    }
                    for s in steps
                ],
            )

    def save(self, work_order_id: int, step: ChecklistStep) -> None:
        c = checklist_steps.c
        self.conn.execute(
            update(checklist_steps)
            .where(c.work_order_id == work_order_id, c.position == step.position)
            .values(done_at=step.done_at, done_by=step.done_by, data=step.data)
        )


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
            "position": rule.position,
            "active": rule.active,
            "conditions": rule.conditions.to_dict(),
            "team_id": rule.team_id,
            "strategy": rule.strategy.value,
            "fallback_team_id": rule.fallback_team_id,
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
