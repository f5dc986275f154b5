"""Storage of macros (kefu.domain.macros)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kefu.adapters.db.tables import macros
from kefu.domain.macros import Macro
from kefu.domain.workorders import Priority, Status


def _macro(row: Any) -> Macro:
    a = row.actions
    return Macro(
        id=row.id,
        organisation_id=row.organisation_id,
        name=row.name,
        active=row.active,
        reply_template=a.get("reply_template"),
        tags=tuple(a.get("tags") or ()),
        priority=Priority(a["priority"]) if a.get("priority") else None,
        team_id=a.get("team_id"),
        status=Status(a["status"]) if a.get("status") else None,
        note=a.get("note"),
    )


class SqlMacroRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_organisations(self, organisation_ids: frozenset[int] | None) -> list[Macro]:
        """The macros kept by these organisations (None: all), by name."""
        query = select(macros).order_by(macros.c.name, macros.c.id)
        if organisation_ids is not None:
            query = query.where(macros.c.organisation_id.in_(sorted(organisation_ids)))
        return [_macro(row) for row in self.conn.execute(query)]

    def get(self, macro_id: int) -> Macro | None:
        row = self.conn.execute(select(macros).where(macros.c.id == macro_id)).first()
        return _macro(row) if row else None

    def name_taken(self, organisation_id: int, name: str, other_than: int | None) -> bool:
        query = select(macros.c.id).where(macros.c.organisation_id == organisation_id, macros.c.name == name)
        if other_than is not None:
            query = query.where(macros.c.id != other_than)
        return self.conn.execute(query).first() is not None

    def save(self, macro: Macro, *, actor_id: int, at: datetime) -> Macro:
        data = macro.as_data()
        values = {
            "organisation_id": macro.organisation_id,
            "name": macro.name,
            "active": macro.active,
            "actions": {k: v for k, v in data.items() if k not in ("organisation_id", "active")},
            "updated_at": at,
            "updated_by": actor_id,
        }
        if macro.id is None:
            new_id = self.conn.execute(insert(macros).values(values).returning(macros.c.id)).scalar_one()
            return replace(macro, id=new_id)
        self.conn.execute(update(macros).where(macros.c.id == macro.id).values(values))
        return macro
