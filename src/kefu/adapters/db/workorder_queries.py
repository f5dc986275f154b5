"""The work-order SQL that several repositories share: the data scope, the filters of lists and
counts, the join that brings the work-order number to its parts, and the storing of the parts of a
work order (hops, visits) that carry a version of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, Table, and_, exists, false, func, insert, literal, or_, select, update

from kefu.adapters.db.tables import customers, dispatches, work_order_parties, work_order_tags, work_orders
from kefu.services.ports import NO_DUE, WorkOrderFilter


def sent_to(organisation_ids: list[int]) -> Any:
    """The work order was dispatched to one of these organisations (it is a party of it)."""
    parties = work_order_parties.c
    return work_orders.c.id.in_(select(parties.work_order_id).where(parties.organisation_id.in_(organisation_ids)))


def in_scope(organisation_ids: frozenset[int]) -> Any:
    """Data scope, the one place it is written: owned by one of these organisations, or dispatched
    to one of them. An empty set sees nothing."""
    if not organisation_ids:
        return false()
    ids = sorted(organisation_ids)
    return or_(work_orders.c.organisation_id.in_(ids), sent_to(ids))


def customer_in_scope(organisation_ids: frozenset[int]) -> Any:
    """Data scope of customers: those who belong to one of these organisations, and those with a
    work order in scope (owned by or dispatched to one of them)."""
    if not organisation_ids:
        return false()
    ids = sorted(organisation_ids)
    return or_(
        customers.c.organisation_id.in_(ids),
        customers.c.id.in_(select(work_orders.c.customer_id).where(in_scope(organisation_ids))),
    )


def filtered(query: Select[Any], flt: WorkOrderFilter) -> Select[Any]:
    """`query` (over work_orders) narrowed to what the filter asks, newest first or in the filter's
    sort (stable: ties by id), continuing after its keyset cursor."""
    c = work_orders.c
    where = conditions(flt)
    if not flt.sort:
        return query.where(*where).order_by(c.id.desc())
    key = sort_key(flt.sort)
    if flt.after is not None:
        value, last_id = flt.after
        if flt.descending:
            where.append(or_(key < value, and_(key == value, c.id < last_id)))
        else:
            where.append(or_(key > value, and_(key == value, c.id > last_id)))
    if flt.descending:
        return query.where(*where).order_by(key.desc(), c.id.desc())
    return query.where(*where).order_by(key.asc(), c.id.asc())


def conditions(flt: WorkOrderFilter) -> list[Any]:
    """The conditions on work_orders that the filter asks for (data scope included)."""
    c = work_orders.c
    conditions: list[Any] = []
    if flt.statuses:
        # Sorted, so "all open statuses" is the very predicate of the partial indexes.
        conditions.append(c.status.in_(sorted(flt.statuses)))
    if flt.priorities:
        conditions.append(c.priority.in_(flt.priorities))
    if flt.types:
        conditions.append(c.type.in_(flt.types))
    if flt.category:
        conditions.append(or_(c.category == flt.category, c.category.startswith(flt.category + ".")))
    if flt.owner_id is not None:
        conditions.append(c.owner_id == flt.owner_id)
    if flt.team_id is not None:
        conditions.append(c.team_id == flt.team_id)
    if flt.customer_id is not None:
        conditions.append(c.customer_id == flt.customer_id)
    if flt.created_from is not None:
        conditions.append(c.created_at >= flt.created_from)
    if flt.created_to is not None:
        conditions.append(c.created_at < flt.created_to)
    if flt.before_id is not None:
        conditions.append(c.id < flt.before_id)
    if flt.visible_to is not None:
        conditions.append(in_scope(flt.visible_to))
    if flt.handler_id is not None:
        conditions.append(c.handler_id == flt.handler_id)
    if flt.unassigned:
        conditions.append(c.handler_id.is_(None))
    if flt.dispatched_to_team is not None:
        d = dispatches.c
        conditions.append(
            exists().where(
                d.work_order_id == c.id,
                d.receiver_team_id == flt.dispatched_to_team,
                d.status.in_(("accepted", "pending")),
            )
        )
    if flt.due_before is not None:
        conditions.append(c.next_due_at < flt.due_before)
    if flt.tag is not None:
        t = work_order_tags.c
        conditions.append(exists().where(t.work_order_id == c.id, t.tag == flt.tag))
    return conditions


def sort_key(sort: str) -> Any:
    """The expression a list is sorted by (services.ports.WORK_ORDER_SORTS)."""
    c = work_orders.c
    keys = {
        "number": c.number,
        "title": c.title,
        "category": c.category,
        "type": c.type,
        "priority": c.priority,
        "status": c.status,
        "created": c.created_at,
        "due": func.coalesce(c.next_due_at, literal(NO_DUE, c.next_due_at.type)),
    }
    return keys[sort]


def with_number(part: Table) -> Select[Any]:
    """The rows of a table of work-order parts (hops, visits, clocks), each with its work order's
    number as `wo_number`."""
    return select(part, work_orders.c.number.label("wo_number")).join(
        work_orders, work_orders.c.id == part.c.work_order_id
    )


# --- parts of a work order with a version of their own (hops, visits) ---------------------------


def _plain(obj: Any, names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = value.value if hasattr(value, "value") else value
    return out


def insert_part(conn: Connection, table: Table, obj: Any, names: list[str]) -> int:
    """Store a new part (its fields `names`, enums as their values, and its version); its new id."""
    return int(
        conn.execute(insert(table).values(**_plain(obj, names), version=obj.version).returning(table.c.id)).scalar_one()
    )


def save_part(conn: Connection, table: Table, obj: Any, names: list[str], expected_version: int) -> bool:
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
