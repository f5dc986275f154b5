"""Storage of dispatch hops and of the organisations a work order was sent to (its parties)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.tables import dispatches, work_order_parties
from kefu.adapters.db.workorder_queries import insert_part, save_part, with_number
from kefu.domain.dispatch import ACTIVE_HOP_STATUSES, Dispatch, HopStatus
from kefu.services.ports import NumberedHop

_ACTIVE = sorted(s.value for s in ACTIVE_HOP_STATUSES)
_DISPATCH_FIELDS = [f.name for f in fields(Dispatch) if f.name not in ("id", "version")]
_PARTY_INSERT = {
    name: dialect.insert(work_order_parties).on_conflict_do_nothing()
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _dispatch(row: Any) -> Dispatch:
    values = {name: getattr(row, name) for name in _DISPATCH_FIELDS}
    values["status"] = HopStatus(row.status)
    return Dispatch(id=row.id, version=row.version, **values)


class SqlDispatchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, hop: Dispatch) -> Dispatch:
        hop.id = insert_part(self.conn, dispatches, hop, _DISPATCH_FIELDS)
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
        return save_part(self.conn, dispatches, hop, _DISPATCH_FIELDS, expected_version)

    def of_work_order(self, work_order_id: int) -> list[Dispatch]:
        rows = self.conn.execute(
            select(dispatches).where(dispatches.c.work_order_id == work_order_id).order_by(dispatches.c.id)
        )
        return [_dispatch(r) for r in rows]

    def waiting_for(
        self, *, team_id: int | None = None, organisation_id: int | None = None, limit: int = 200
    ) -> list[NumberedHop]:
        """Hops waiting for an answer from a team (or an organisation's reception, when no team was
        named), earliest deadline first, with the work-order number."""
        d = dispatches.c
        query = with_number(dispatches).where(d.status.in_(_ACTIVE))
        if team_id is not None:
            query = query.where(d.receiver_team_id == team_id)
        if organisation_id is not None:
            query = query.where(and_(d.receiver_org_id == organisation_id, d.receiver_team_id.is_(None)))
        rows = self.conn.execute(query.order_by(d.deadline_at.asc().nulls_last(), d.id).limit(limit))
        return [NumberedHop(_dispatch(r), r.wo_number) for r in rows]
