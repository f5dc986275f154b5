"""Data scope: which work orders and customers a user may see (R14, R15, R29).

Every read of work orders goes through `visible_to`, and the repositories turn it into one SQL
condition (kefu.adapters.db.workorder_queries.in_scope), so list, search, detail, history and export
all apply the same rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kefu.domain.errors import N_, NotFound
from kefu.domain.org import Organisation, User, is_external, visible_organisations
from kefu.domain.workorders import WorkOrder
from kefu.services.ports import UnitOfWork

if TYPE_CHECKING:  # context.py imports access.lockout, which needs this module: no cycle at run time
    from kefu.services.context import Context


def organisations(ctx: Context, uow: UnitOfWork) -> list[Organisation]:
    """All organisations (they change rarely and every read needs them; cached, cleared by the use
    cases that change them)."""
    return ctx.caches.organisations.get_or_load("all", uow.org.organisations)


def visible_to(ctx: Context, uow: UnitOfWork, actor: User) -> frozenset[int] | None:
    """The organisations whose work orders `actor` sees (None: all of them)."""
    return visible_organisations(actor, organisations(ctx, uow))


def external(ctx: Context, uow: UnitOfWork, actor: User) -> bool:
    """A vendor's or partner's user: personal data stays masked, whatever the role allows."""
    return is_external(actor, organisations(ctx, uow))


def load_work_order(ctx: Context, uow: UnitOfWork, actor: User, number: str) -> WorkOrder:
    """The work order if it exists and `actor` may see it; otherwise NotFound (a work order out of
    scope is not confirmed to exist)."""
    work_order = uow.work_orders.get_by_number(number, visible_to=visible_to(ctx, uow, actor))
    if work_order is None:
        raise NotFound(kind=N_("Work order"), key=number)
    return work_order


def load_work_order_by_id(ctx: Context, uow: UnitOfWork, actor: User, work_order_id: int) -> WorkOrder | None:
    """The work order a part (a hop, a visit, a contact) belongs to, if `actor` may see it."""
    return uow.work_orders.get_by_id(work_order_id, visible_to=visible_to(ctx, uow, actor))
