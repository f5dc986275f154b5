"""Reading work orders: one with everything its page shows, its timeline, lists and exports —
always within the reader's data scope, personal data masked unless the role may see it.

Each public function is one (read-only) transaction; unmasking and exports are audited (R3, R31, R35)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from kefu.domain.audit import AuditAction, Unmasking
from kefu.domain.categories import validate_code
from kefu.domain.checklists import ChecklistStep
from kefu.domain.contacts import Contact
from kefu.domain.customers import Customer, Tier
from kefu.domain.dispatch import Dispatch
from kefu.domain.errors import ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.visits import Visit
from kefu.domain.workorders import WorkOrder
from kefu.services import audit
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.access.scope import load_work_order, visible_to
from kefu.services.context import Context
from kefu.services.customers import reveal
from kefu.services.ports import NO_DUE, WORK_ORDER_SORTS, UnitOfWork, WorkOrderFilter
from kefu.services.sla import clocks as sla

MAX_PAGE = 200


MAX_EXPORT = 100_000


EXPORT_PAGE = 1000


@dataclass(frozen=True)
class WorkOrderView:
    """A work order with what screens show beside it."""

    work_order: WorkOrder
    customer: Customer
    history: list[WorkOrderEvent]
    people: dict[int, User]
    clocks: list[sla.ClockView]
    dispatches: list[Dispatch]
    visits: list[Visit]
    checklist: list[ChecklistStep]
    contacts: list[Contact]  # the customer's latest contacts, any channel (R1, R6)
    customer_orders: list[WorkOrder]  # the customer's other work orders, newest first

    @property
    def rating(self) -> Rating | None:
        return rating_in(self.history)


@dataclass(frozen=True)
class Rating:
    """The customer's rating of the service (R21), given through the portal."""

    score: int  # 1 to 5 stars
    comment: str | None
    at: datetime


def rating_in(history: list[WorkOrderEvent]) -> Rating | None:
    """The customer's rating in a timeline (the latest; the portal takes one)."""
    for e in reversed(history):
        if e.kind is EventKind.CUSTOMER_RATED:
            return Rating(score=int(str(e.data.get("score", 0))), comment=e.note, at=e.at)
    return None


def customer_rating(ctx: Context, actor: User, number: str) -> Rating | None:
    """The customer's rating of a work order the actor may read."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        assert work_order.id is not None
        return rating_in(uow.work_orders.history(work_order.id))


def get_work_order(ctx: Context, actor: User, number: str) -> tuple[WorkOrder, list[sla.ClockView]]:
    """A work order and where its time limits stand."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        assert work_order.id is not None
        return scope.shown_work_orders(ctx, uow, actor, [work_order])[0], sla.views(ctx, uow, work_order.id)


def view_work_order(ctx: Context, actor: User, number: str, *, unmask: Unmasking | None = None) -> WorkOrderView:
    """A work order with its customer, its timeline and the people named in it (one transaction);
    the customer unmasked when `unmask` says why (and the role allows it: the view is audited)."""
    require(actor, Permission.READ)
    with ctx.uow(write=unmask is not None) as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        assert work_order.id is not None
        customer = uow.customers.get(work_order.customer_id)
        assert customer is not None
        history = scope.shown_history(ctx, uow, actor, work_order, uow.work_orders.history(work_order.id))
        hops = scope.shown_hops(ctx, uow, actor, work_order, uow.dispatches.of_work_order(work_order.id))
        visits = scope.shown_visits(ctx, uow, actor, uow.visits.of_work_order(work_order.id))
        ids = {e.actor_id for e in history} | {work_order.owner_id} | {v.engineer_id for v in visits}
        if work_order.handler_id is not None:
            ids.add(work_order.handler_id)
        people = uow.users.get_many(sorted(ids))
        shown = reveal(uow, ctx, actor, customer, unmask, f"work_order:{work_order.number}")
        checklist = uow.checklists.steps(work_order.id)
        clocks = sla.views(ctx, uow, work_order.id)
        visible = visible_to(ctx, uow, actor)
        customer_orders = [
            w
            for w in uow.work_orders.find(WorkOrderFilter(customer_id=work_order.customer_id, visible_to=visible), 11)
            if w.id != work_order.id
        ][:10]
        customer_orders = scope.shown_work_orders(ctx, uow, actor, customer_orders)
        contacts = scope.shown_contacts(ctx, uow, actor, customer, uow.channels.contacts_of(work_order.customer_id, 10))
        work_order = scope.shown_work_orders(ctx, uow, actor, [work_order])[0]
        uow.commit()
    return WorkOrderView(
        work_order=work_order,
        customer=shown,
        history=history,
        people=people,
        clocks=clocks,
        dispatches=hops,
        visits=visits,
        checklist=checklist,
        contacts=contacts,
        customer_orders=customer_orders,
    )


def work_order_history(ctx: Context, actor: User, number: str) -> tuple[list[WorkOrderEvent], dict[int, User]]:
    """The timeline of a work order, oldest first, with the people who acted in it."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        assert work_order.id is not None
        history = scope.shown_history(ctx, uow, actor, work_order, uow.work_orders.history(work_order.id))
        return history, uow.users.get_many(sorted({e.actor_id for e in history}))


def list_work_orders(ctx: Context, actor: User, flt: WorkOrderFilter, *, limit: int = 50) -> list[WorkOrder]:
    """Newest first, keyset-paginated: pass the last id of a page as `before_id` for the next."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=MAX_PAGE)
    return _find(ctx, actor, flt, limit)


def _find(ctx: Context, actor: User, flt: WorkOrderFilter, limit: int) -> list[WorkOrder]:
    _check(actor, flt)
    with ctx.uow() as uow:
        return _page(ctx, uow, actor, flt, limit)


def _check(actor: User, flt: WorkOrderFilter) -> None:
    require(actor, Permission.READ)
    if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
        raise ValidationFailed("created_from lies after created_to.", field="created_from")
    if flt.category is not None:
        validate_code(flt.category)
    if flt.sort and flt.sort not in WORK_ORDER_SORTS:
        raise ValidationFailed("Sort by one of: {known}.", field="sort", known=", ".join(WORK_ORDER_SORTS))


def sort_value(wo: WorkOrder, sort: str) -> str | datetime:
    """A work order's value in a sorted list (what the next page's cursor continues after)."""
    values: dict[str, str | datetime] = {
        "number": wo.number,
        "title": wo.title,
        "category": wo.category,
        "type": wo.type.value,
        "priority": wo.priority.value,
        "status": wo.status.value,
        "created": wo.created_at,
        "due": wo.next_due_at or NO_DUE,
    }
    return values[sort]


def vip_customers(ctx: Context, actor: User, found: list[WorkOrder]) -> set[int]:
    """Which of the customers of a list the actor read are VIPs (their tier, no personal data)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        customers = uow.customers.get_many(sorted({w.customer_id for w in found}))
    return {i for i, c in customers.items() if c.tier is Tier.VIP}


def handlers_of(ctx: Context, actor: User, found: list[WorkOrder]) -> dict[int, User]:
    """The people handling the work orders of a list the actor read (their names for the list)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.users.get_many(sorted({w.handler_id for w in found if w.handler_id is not None}))


def _page(ctx: Context, uow: UnitOfWork, actor: User, flt: WorkOrderFilter, limit: int) -> list[WorkOrder]:
    found = uow.work_orders.find(replace(flt, visible_to=visible_to(ctx, uow, actor)), limit)
    return scope.shown_work_orders(ctx, uow, actor, found)


def export_work_orders(ctx: Context, actor: User, flt: WorkOrderFilter, *, max_rows: int) -> Iterator[list[WorkOrder]]:
    """The filtered list in pages (one short transaction each), within the actor's data scope. The
    export is an audit row (who, which filter, how many rows at most), written with the first page."""
    if not 1 <= max_rows <= MAX_EXPORT:
        raise ValidationFailed("max_rows must be between 1 and {max}.", field="max_rows", max=MAX_EXPORT)
    _check(actor, flt)
    with ctx.uow(write=True) as uow:
        first = _page(ctx, uow, actor, flt, min(EXPORT_PAGE, max_rows))
        wanted = {k: v for k, v in asdict(flt).items() if v not in (None, (), False, "") and k != "visible_to"}
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.DATA_EXPORTED,
            subject_type="work_orders",
            details={"filter": wanted, "max_rows": max_rows},
        )
        uow.commit()
    return _export_pages(ctx, actor, flt, first, max_rows)


def _export_pages(
    ctx: Context, actor: User, flt: WorkOrderFilter, page: list[WorkOrder], max_rows: int
) -> Iterator[list[WorkOrder]]:
    sent = 0
    while page:
        yield page
        sent += len(page)
        if len(page) < EXPORT_PAGE or sent >= max_rows:
            return
        page = _find(ctx, actor, replace(flt, before_id=page[-1].id), min(EXPORT_PAGE, max_rows - sent))
