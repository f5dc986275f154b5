"""Storage for the agents' workspace: capped counts for queues, saved filters, the supervisor
dashboard's aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, text

from kefu.adapters.db.tables import (
    OPEN_PREDICATE,
    saved_filters,
    users,
    work_order_clocks,
    work_orders,
)
from kefu.adapters.db.user_repository import USER_LOAD
from kefu.adapters.db.workorder_queries import filtered, sent_to
from kefu.services.ports import AgentLoad, SavedFilter, WorkOrderFilter


class SqlWorkspaceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self, flt: WorkOrderFilter, cap: int) -> int:
        """How many work orders match, counting no further than `cap` + 1 (a queue shows "999+")."""
        query = filtered(select(work_orders.c.id), flt)
        if flt.due_before is not None:
            # Any order will do for a count: the planner may then start from the running clocks'
            # deadline index instead of walking work orders newest first.
            query = query.order_by(None)
        inner = query.limit(cap + 1).subquery()
        return int(self.conn.execute(select(func.count()).select_from(inner)).scalar_one())

    def oldest(self, flt: WorkOrderFilter) -> datetime | None:
        """When the oldest matching work order was registered (how long a queue has waited)."""
        # Ids grow with time: the smallest id is the oldest, found from the other end of the same index.
        query = filtered(select(work_orders.c.created_at), flt).order_by(None).order_by(work_orders.c.id).limit(1)
        return self.conn.execute(query).scalar_one_or_none()

    # saved filters
    def filters(self, user_id: int) -> list[SavedFilter]:
        rows = self.conn.execute(
            select(saved_filters).where(saved_filters.c.user_id == user_id).order_by(saved_filters.c.name)
        )
        return [SavedFilter(r.id, r.user_id, r.name, r.query) for r in rows]

    def save_filter(self, user_id: int, name: str, query: str, at: datetime) -> None:
        f = saved_filters.c
        self.conn.execute(delete(saved_filters).where(f.user_id == user_id, f.name == name))
        self.conn.execute(insert(saved_filters).values(user_id=user_id, name=name, query=query, created_at=at))

    def delete_filter(self, user_id: int, filter_id: int) -> bool:
        f = saved_filters.c
        return bool(self.conn.execute(delete(saved_filters).where(f.user_id == user_id, f.id == filter_id)).rowcount)

    # dashboard
    def open_by(self, column: str, visible_to: frozenset[int] | None) -> dict[Any, int]:
        """Open work orders counted by a column, within a data scope. The scope is counted in two
        parts that cannot overlap — owned by the organisations (from an index alone), and sent to
        them but owned elsewhere — instead of testing "owned or sent" on every open row."""
        c = work_orders.c
        col = getattr(c, column)
        base = select(col, func.count()).where(text(OPEN_PREDICATE)).group_by(col)
        if visible_to is None:
            return {row[0]: int(row[1]) for row in self.conn.execute(base)}
        ids = sorted(visible_to)
        if not ids:
            return {}
        owned = base.where(c.organisation_id.in_(ids))
        sent = base.where(
            or_(c.organisation_id.is_(None), c.organisation_id.not_in(ids)),
            sent_to(ids),
        )
        out: dict[Any, int] = {}
        for query in (owned, sent):
            for key, n in self.conn.execute(query):
                out[key] = out.get(key, 0) + int(n)
        return out

    def created_by(
        self, column: str, start: datetime, end: datetime, visible_to: frozenset[int] | None
    ) -> dict[Any, int]:
        col = getattr(work_orders.c, column)
        query = (
            filtered(
                select(col, func.count()), WorkOrderFilter(created_from=start, created_to=end, visible_to=visible_to)
            )
            .group_by(col)
            .order_by(None)
        )
        return {row[0]: int(row[1]) for row in self.conn.execute(query)}

    def breaches_between(self, start: datetime, end: datetime, visible_to: frozenset[int] | None) -> int:
        k = work_order_clocks.c
        query = select(func.count()).where(k.breached_at >= start, k.breached_at < end)
        if visible_to is not None:
            query = query.where(
                k.work_order_id.in_(
                    filtered(select(work_orders.c.id), WorkOrderFilter(visible_to=visible_to)).order_by(None)
                )
            )
        return int(self.conn.execute(query).scalar_one())

    def agents_load(self, team_ids: list[int] | None) -> list[AgentLoad]:
        """(user id, name, team id, open work orders, capacity, on shift) of the people who handle work."""
        u = users.c
        query = select(u.id, u.display_name, u.team_id, USER_LOAD, u.capacity, u.on_shift).where(
            u.active.is_(True), u.role.in_(("agent", "tech_support", "field_engineer"))
        )
        if team_ids is not None:
            query = query.where(u.team_id.in_(team_ids))
        rows = self.conn.execute(query.order_by(USER_LOAD.desc(), u.id).limit(200))
        return [AgentLoad(r.id, r.display_name, r.team_id, int(r.load), r.capacity, r.on_shift) for r in rows]
