"""Bulk loading of demo data: COPY on PostgreSQL, batched executemany on SQLite.

This is the one place that writes work orders without the service layer: it loads a consistent,
generated history (events included) at millions of rows, which the per-work-order use cases were
not made for. It never runs against a database that already holds work orders unless asked to add.

It belongs to the demo, not to the adapters: like an entry point, the demo may use the adapters'
tables directly, and nothing but `kefu demo-data` (which the benchmarks run) loads this way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, delete, func, select, text, update

from kefu.adapters.data_protection import DataKeys
from kefu.adapters.db import numbering
from kefu.adapters.db.customer_repository import ID_NUMBER
from kefu.adapters.db.tables import OPEN_PREDICATE, load_changes, users, work_orders
from kefu.demo.generator import DemoCustomer, DemoWorkOrder
from kefu.domain.audit import GENESIS, chained, event_content
from kefu.domain.events import EventKind, WorkOrderEvent

BATCH = 5_000

CUSTOMER_COLS = [
    "id",
    "name",
    "phone",
    "tier",
    "brand",
    "region",
    "email",
    "address",
    "id_number",
    "services",
    "devices",
    "tags",
    "created_at",
    "organisation_id",
]
WO_COLS = [
    "id",
    "number",
    "customer_id",
    "type",
    "category",
    "channel",
    "priority",
    "severity",
    "title",
    "description",
    "status",
    "owner_id",
    "handler_id",
    "team_id",
    "created_by",
    "created_at",
    "updated_at",
    "fault_place",
    "device",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "version",
    "organisation_id",
    "event_seq",
]
EVENT_COLS = [
    "work_order_id",
    "kind",
    "actor_id",
    "at",
    "from_status",
    "to_status",
    "note",
    "visibility",
    "data",
    "seq",
    "prev_hash",
    "hash",
]


def next_id(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def open_ids_from(engine: Engine, first_id: int) -> list[int]:
    """Ids of open work orders from `first_id` on (those a bulk load just added)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(work_orders.c.id)
                .where(work_orders.c.id >= first_id, text(OPEN_PREDICATE))
                .order_by(work_orders.c.id)
            ).scalars()
        )


def _customer_row(c: DemoCustomer, keys: DataKeys, organisation_id: int | None) -> tuple[Any, ...]:
    return (
        c.id,
        c.name,
        c.phone,
        c.tier,
        c.brand,
        c.region,
        None,
        c.address,
        keys.encrypt(c.id_number, ID_NUMBER),  # as the repository stores it
        c.services,
        c.devices,
        c.tags,
        c.created_at,
        organisation_id,
    )


def _wo_row(w: DemoWorkOrder, owner_orgs: dict[int, int | None]) -> tuple[Any, ...]:
    return (
        w.id,
        w.number,
        w.customer_id,
        w.type,
        w.category,
        w.channel,
        w.priority,
        w.severity,
        w.title,
        w.description,
        w.status,
        w.owner_id,
        w.owner_id,
        w.team_id,
        w.owner_id,
        w.created_at,
        w.updated_at,
        w.fault_place,
        w.device,
        w.resolved_at,
        w.closed_at,
        0,
        1,
        owner_orgs.get(w.owner_id),
        len(w.events),
    )


def _event_rows(w: DemoWorkOrder) -> Iterator[tuple[Any, ...]]:
    """The work order's events as its hash chain (kefu.domain.audit), like the repository stores them."""
    events = (
        WorkOrderEvent(
            kind=EventKind(e["kind"]),
            actor_id=e["actor_id"],
            at=e["at"],
            from_status=e["from_status"],
            to_status=e["to_status"],
            note=e["note"],
            visibility=e.get("visibility"),
            data=e["data"],
        )
        for e in w.events
    )
    contents = (event_content(w.id, seq, event) for seq, event in enumerate(events, start=1))
    for row in chained(contents, GENESIS):
        yield tuple(row[column] for column in EVENT_COLS)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _pg_value(v: Any) -> Any:
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime):
        return v.astimezone(UTC)
    return v


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return v


def _load(
    engine: Engine, table: str, cols: list[str], rows: Iterable[tuple[Any, ...]], progress: Callable[[int], None]
) -> int:
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:  # type: ignore[attr-defined]
                if table == "work_orders":
                    # Row by row, the load trigger would append a change per open work order;
                    # `recount_open_assigned` sets the counters once afterwards instead.
                    # (Transactional: the trigger is back on at commit.)
                    cur.execute("ALTER TABLE work_orders DISABLE TRIGGER work_orders_count_assigned")
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for chunk in _chunks(rows, BATCH):
                        for row in chunk:
                            copy.write_row([_pg_value(v) for v in row])
                        count += len(chunk)
                        progress(len(chunk))
                if table == "work_orders":
                    cur.execute("ALTER TABLE work_orders ENABLE TRIGGER work_orders_count_assigned")
            raw.commit()
        finally:
            raw.close()
        return count
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"  # noqa: S608
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN IMMEDIATE")
        for chunk in _chunks(rows, BATCH):
            cur.executemany(sql, [[_sqlite_value(v) for v in row] for row in chunk])
            count += len(chunk)
            progress(len(chunk))
        cur.execute("COMMIT")
    finally:
        raw.close()
    return count


def load_customers(
    engine: Engine,
    keys: DataKeys,
    rows: Iterable[DemoCustomer],
    progress: Callable[[int], None],
    organisation_id: int | None,
) -> int:
    """Customers who belong to `organisation_id` (the demo centre)."""
    n = _load(engine, "customers", CUSTOMER_COLS, (_customer_row(c, keys, organisation_id) for c in rows), progress)
    _sync_identity(engine, "customers")
    return n


def load_work_orders(
    engine: Engine, rows: Iterable[DemoWorkOrder], progress: Callable[[int], None], owner_orgs: dict[int, int | None]
) -> int:
    """Work orders (in their owners' organisations) and their events, chunk by chunk; then the daily
    number sequences move past them and the handlers' open-load counters are set."""
    sequences: dict[str, int] = {}
    n = 0
    for chunk in _chunks(rows, 20_000):
        for w in chunk:
            day, seq = w.number[2:10], int(w.number[10:])
            sequences[day] = max(sequences.get(day, 0), seq)
        n += _load(engine, "work_orders", WO_COLS, (_wo_row(w, owner_orgs) for w in chunk), progress)
        _load(engine, "work_order_events", EVENT_COLS, (r for w in chunk for r in _event_rows(w)), lambda _: None)
    _sync_identity(engine, "work_orders")
    _sync_identity(engine, "work_order_events")
    numbering.advance_to(engine, sequences)
    recount_open_assigned(engine, sorted(owner_orgs))
    return n


def recount_open_assigned(engine: Engine, user_ids: list[int]) -> None:
    """Set these users' open-load counters from the work orders themselves."""
    if not user_ids:
        return
    with engine.begin() as conn:
        conn.execute(delete(load_changes).where(load_changes.c.user_id.in_(user_ids)))
        conn.execute(
            update(users)
            .where(users.c.id.in_(user_ids))
            .values(
                open_assigned=(
                    select(func.count())
                    .select_from(work_orders)
                    .where(work_orders.c.handler_id == users.c.id, text(OPEN_PREDICATE))
                    .scalar_subquery()
                )
            )
        )


def _sync_identity(engine: Engine, table: str) -> None:
    """After explicit ids, move PostgreSQL's identity sequence past them (SQLite needs nothing)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
            )
        )
        if table == "work_orders":
            conn.execute(text("ANALYZE work_orders"))
            conn.execute(text("ANALYZE work_order_events"))
            conn.execute(text("ANALYZE customers"))
