"""Storage of work orders and their events (the timeline). The filters and the data scope of the
queries are in `workorder_queries`, shared with the other repositories that read work orders."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Insert, String, bindparam, insert, literal_column, select, update

from kefu.adapters.db import numbering
from kefu.adapters.db.search_repository import SqlSearchRepository
from kefu.adapters.db.tables import work_order_events, work_orders
from kefu.adapters.db.workorder_queries import filtered, in_scope
from kefu.domain.audit import GENESIS, chained, event_content
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.workorders import Channel, Priority, Status, WorkOrder, WorkOrderType, format_number
from kefu.services.ports import WorkOrderFilter

# Statements on the hot paths (intake, reads) are built once; SQLAlchemy then reuses their compiled
# form and each call only binds parameters.
_WO_INSERT = insert(work_orders).returning(work_orders.c.id, work_orders.c.number)
_EVENT_HASH = select(work_order_events.c.hash).where(
    work_order_events.c.work_order_id == bindparam("id"), work_order_events.c.seq == bindparam("seq")
)


@functools.lru_cache(maxsize=8)
def _numbered_insert(number_sql: str) -> Insert:
    """The INSERT that takes its number from the day's sequence (one statement per day)."""
    number = literal_column(number_sql, String())
    return insert(work_orders).values(number=number).returning(work_orders.c.id, work_orders.c.number)


_WO_BY_NUMBER = select(work_orders).where(work_orders.c.number == bindparam("number"))
_WO_BY_ID = select(work_orders).where(work_orders.c.id == bindparam("id"))
_EVENT_INSERT = insert(work_order_events)
_EVENTS_OF = (
    select(work_order_events)
    .where(work_order_events.c.work_order_id == bindparam("id"))
    .order_by(work_order_events.c.seq)
)
#: Makes room for n more events in a work order's chain (and locks its row): gives the new length.
_EVENT_ROOM = (
    update(work_orders)
    .where(work_orders.c.id == bindparam("work_order_id"))
    .values(event_seq=work_orders.c.event_seq + bindparam("n"))
    .returning(work_orders.c.event_seq)
)


_WO_MUTABLE = (
    "customer_id",  # a correction re-links it, a merge of customers moves it
    "type",
    "category",
    "channel",
    "priority",
    "severity",
    "title",
    "description",
    "status",
    "handler_id",
    "team_id",
    "updated_at",
    "fault_time",
    "fault_place",
    "device",
    "promised_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "next_due_at",
)


def work_order_of(row: Any) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        number=row.number,
        customer_id=row.customer_id,
        type=WorkOrderType(row.type),
        category=row.category,
        channel=Channel(row.channel),
        priority=Priority(row.priority),
        severity=row.severity,
        title=row.title,
        description=row.description,
        status=Status(row.status),
        owner_id=row.owner_id,
        handler_id=row.handler_id,
        team_id=row.team_id,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        fault_time=row.fault_time,
        fault_place=row.fault_place,
        device=row.device,
        promised_at=row.promised_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        version=row.version,
        organisation_id=row.organisation_id,
        next_due_at=row.next_due_at,
    )


def event_of(row: Any) -> WorkOrderEvent:
    """A stored event row as the domain's event."""
    return WorkOrderEvent(
        id=row.id,
        work_order_id=row.work_order_id,
        kind=EventKind(row.kind),
        actor_id=row.actor_id,
        at=row.at,
        from_status=row.from_status,
        to_status=row.to_status,
        note=row.note,
        visibility=row.visibility,
        data=dict(row.data or {}),
    )


def _work_order_values(wo: WorkOrder) -> dict[str, Any]:
    values = {name: getattr(wo, name) for name in _WO_MUTABLE}
    for name in ("type", "channel", "priority", "status"):
        values[name] = values[name].value
    return values


class SqlWorkOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # The search index follows the text in the same transaction (search_repository).
        self.search = SqlSearchRepository(conn)

    def add(self, work_order: WorkOrder, *, day: date) -> WorkOrder:
        values = _work_order_values(work_order)
        values.update(
            owner_id=work_order.owner_id,
            created_by=work_order.created_by,
            created_at=work_order.created_at,
            version=work_order.version,
            organisation_id=work_order.organisation_id,
            event_seq=len(work_order.events),
        )
        stmt: Insert = _WO_INSERT
        if work_order.number:
            values["number"] = work_order.number
        elif (number_sql := numbering.number_sql(self.conn, day)) is not None:
            stmt = _numbered_insert(number_sql)
        else:
            values["number"] = format_number(day, numbering.next_in_day(self.conn, day))
        row = self.conn.execute(stmt, values).one()
        work_order.id, work_order.number = row.id, row.number
        self.search.index_work_order(work_order)
        self._chain_events(work_order, 0)
        return work_order

    def _chain_events(self, work_order: WorkOrder, last_seq: int) -> None:
        """Store the pending events after event `last_seq` of the work order's chain. The caller
        holds the work order's row (a new one, or one it just updated), so nobody else adds to the
        chain meanwhile."""
        if not work_order.events:
            return
        assert work_order.id is not None
        prev = GENESIS
        if last_seq:
            # A missing previous event (deleted by someone) must not stop the work: the chain stays
            # broken there, and `kefu audit verify` reports it.
            prev = self.conn.execute(_EVENT_HASH, {"id": work_order.id, "seq": last_seq}).scalar() or GENESIS
        contents = (event_content(work_order.id, n, e) for n, e in enumerate(work_order.events, start=last_seq + 1))
        rows = chained(contents, prev)
        # One event (the usual case) as a plain execute: executemany has a fixed cost of its own.
        self.conn.execute(_EVENT_INSERT, rows[0] if len(rows) == 1 else rows)
        self.search.index_notes(work_order.id, enumerate(work_order.events, start=last_seq + 1))
        work_order.events.clear()

    def get_by_number(self, number: str, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None:
        if visible_to is None:
            row = self.conn.execute(_WO_BY_NUMBER, {"number": number}).first()
        else:
            row = self.conn.execute(
                select(work_orders).where(work_orders.c.number == number, in_scope(visible_to))
            ).first()
        return work_order_of(row) if row else None

    def get_by_id(self, work_order_id: int, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None:
        if visible_to is None:
            row = self.conn.execute(_WO_BY_ID, {"id": work_order_id}).first()
        else:
            row = self.conn.execute(
                select(work_orders).where(work_orders.c.id == work_order_id, in_scope(visible_to))
            ).first()
        return work_order_of(row) if row else None

    def get_many_by_id(self, ids: list[int], *, visible_to: frozenset[int] | None = None) -> dict[int, WorkOrder]:
        if not ids:
            return {}
        query = select(work_orders).where(work_orders.c.id.in_(ids))
        if visible_to is not None:
            query = query.where(in_scope(visible_to))
        return {row.id: work_order_of(row) for row in self.conn.execute(query)}

    def append_events(self, work_order: WorkOrder) -> None:
        if not work_order.events:
            return
        n = len(work_order.events)
        length = self.conn.execute(_EVENT_ROOM, {"work_order_id": work_order.id, "n": n}).scalar_one()
        self._chain_events(work_order, int(length) - n)

    def save(self, work_order: WorkOrder, expected_version: int) -> bool:
        n = len(work_order.events)
        length = self.conn.execute(
            update(work_orders)
            .where(work_orders.c.id == work_order.id, work_orders.c.version == expected_version)
            .values(
                {
                    **_work_order_values(work_order),
                    "version": expected_version + 1,
                    "event_seq": work_orders.c.event_seq + n,
                }
            )
            .returning(work_orders.c.event_seq)
        ).scalar()
        if length is None:
            return False
        work_order.version = expected_version + 1
        self.search.index_work_order(work_order)
        self._chain_events(work_order, int(length) - n)
        return True

    def find(self, flt: WorkOrderFilter, limit: int) -> list[WorkOrder]:
        return [work_order_of(row) for row in self.conn.execute(filtered(select(work_orders), flt).limit(limit))]

    def set_next_due(self, work_order_id: int, due: datetime | None) -> None:
        """For a rebuild of clocks outside a change of the work order (its version stays)."""
        self.conn.execute(update(work_orders).where(work_orders.c.id == work_order_id).values(next_due_at=due))

    def history(self, work_order_id: int) -> list[WorkOrderEvent]:
        return [event_of(row) for row in self.conn.execute(_EVENTS_OF, {"id": work_order_id})]
