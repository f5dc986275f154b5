"""Data scope: which work orders, customers and people a user may see, and what of them (R14, R15,
R29, R30, R31).

Every read of work orders goes through `visible_to`, and the repositories turn it into one SQL
condition (kefu.adapters.db.workorder_queries.in_scope), so list, search, detail, history and export
all apply the same rule. Customers follow the same organisations (`load_customer`,
`customer_in_scope`): a customer belongs to the organisation that registered them, and is seen by
that organisation's subtree and by whoever has a work order of theirs in scope. The `shown_*`
functions say what a reader sees of what is in scope: a vendor's or partner's user gets fault places
masked, no internal notes, only the hops their organisation is party to, and only the contacts of
work orders in scope.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kefu.domain.contacts import Contact
from kefu.domain.customers import Customer, mask_address
from kefu.domain.dispatch import Dispatch
from kefu.domain.errors import N_, NotFound
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import OrgTree, Permission, User, is_external, visible_organisations
from kefu.domain.visits import Visit
from kefu.domain.workorders import WorkOrder
from kefu.services.ports import UnitOfWork, WorkOrderFilter

if TYPE_CHECKING:  # context.py imports access.lockout, which needs this module: no cycle at run time
    from kefu.services.context import Context

#: Events about hops: an outside organisation sees those of the hops it is party to.
HOP_EVENTS = frozenset({EventKind.HOP_SENT, EventKind.HOP_ACCEPTED, EventKind.HOP_REJECTED, EventKind.HOP_RETURNED})
#: Events naming another work order.
LINK_EVENTS = frozenset({EventKind.LINKED, EventKind.MERGED})
#: Shown to a vendor or partner only when meant for the customer or written by its own people.
PRIVATE_EVENTS = frozenset({EventKind.NOTE_ADDED, EventKind.FILE_ADDED})


def tree(ctx: Context, uow: UnitOfWork) -> OrgTree:
    """All organisations as a tree (they change rarely and every read needs them; cached, cleared by
    the use cases that change them)."""
    return ctx.caches.organisations.get_or_load("all", lambda: OrgTree(uow.org.organisations()))


def visible_to(ctx: Context, uow: UnitOfWork, actor: User) -> frozenset[int] | None:
    """The organisations whose work orders `actor` sees (None: all of them)."""
    return visible_organisations(actor, tree(ctx, uow))


def external(ctx: Context, uow: UnitOfWork, actor: User) -> bool:
    """A vendor's or partner's user: personal data stays masked, whatever the role allows."""
    return is_external(actor, tree(ctx, uow))


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


def load_customer(ctx: Context, uow: UnitOfWork, actor: User, customer_id: int) -> Customer:
    """The customer if `actor` may see them (not masked yet); otherwise NotFound, as if there were no
    such customer."""
    customer = uow.customers.get(customer_id, visible_to=visible_to(ctx, uow, actor))
    if customer is None:
        raise NotFound(kind=N_("Customer"), key=customer_id)
    return customer


def load_own_customer(ctx: Context, uow: UnitOfWork, actor: User, customer_id: int) -> Customer:
    """A customer of the actor's own organisations (their subtree) to change: not one seen only
    through a work order dispatched to the actor, and never by a vendor's or partner's user.
    Otherwise NotFound, as if there were no such customer."""
    visible = visible_to(ctx, uow, actor)
    customer = uow.customers.get(customer_id)
    if (
        customer is None
        or external(ctx, uow, actor)
        or (visible is not None and customer.organisation_id not in visible)
    ):
        raise NotFound(kind=N_("Customer"), key=customer_id)
    return customer


def customer_in_scope(ctx: Context, uow: UnitOfWork, actor: User, customer: Customer) -> bool:
    """The customer belongs to an organisation `actor` sees, or has a work order `actor` sees."""
    visible = visible_to(ctx, uow, actor)
    if visible is None or customer.organisation_id in visible:
        return True
    return bool(uow.work_orders.find(WorkOrderFilter(customer_id=customer.id, visible_to=visible), 1))


def sees_addresses(ctx: Context, uow: UnitOfWork, actor: User) -> bool:
    """Whether the places of work (a work order's fault place, a visit's site) are shown unmasked:
    to the operator's roles that may see personal data (field engineers must find the site)."""
    return actor.may(Permission.PII_VIEW) and not external(ctx, uow, actor)


def _place_masked(wo: WorkOrder) -> WorkOrder:
    return replace(wo, fault_place=mask_address(wo.fault_place) if wo.fault_place else None)


def shown_work_orders(ctx: Context, uow: UnitOfWork, actor: User, found: list[WorkOrder]) -> list[WorkOrder]:
    """The fault place is an address: masked for whoever may not see personal data, and for every
    vendor's or partner's user."""
    return found if sees_addresses(ctx, uow, actor) else [_place_masked(w) for w in found]


def as_seen_by(ctx: Context, actor: User, wo: WorkOrder) -> WorkOrder:
    """What a use case that changed a work order answers with: the work order as `actor` may see it."""
    if not actor.may(Permission.PII_VIEW):
        return _place_masked(wo)
    with ctx.uow() as uow:  # the organisations are cached: no query
        return shown_work_orders(ctx, uow, actor, [wo])[0]


def visit_as_seen_by(ctx: Context, actor: User, visit: Visit) -> Visit:
    """What a use case that changed a visit answers with: the visit as `actor` may see it."""
    with ctx.uow() as uow:
        return shown_visits(ctx, uow, actor, [visit])[0]


def shown_visits(ctx: Context, uow: UnitOfWork, actor: User, visits: list[Visit]) -> list[Visit]:
    """The site address is personal data: masked (and the customer's signature left out) unless the
    role may see personal data (field engineers must find the site) and is the operator's."""
    if sees_addresses(ctx, uow, actor):
        return visits
    return [replace(v, address=mask_address(v.address), signature=None) for v in visits]


def shown_contacts(
    ctx: Context, uow: UnitOfWork, actor: User, customer: Customer, contacts: list[Contact]
) -> list[Contact]:
    """The contacts `actor` may read: those of work orders in its scope, and (for the organisations
    the customer belongs to) those not tied to any work order. The text of a message about a work
    order of another organisation is that organisation's."""
    visible = visible_to(ctx, uow, actor)
    if visible is None:
        return contacts
    ids = sorted({c.work_order_id for c in contacts if c.work_order_id is not None})
    seen = uow.work_orders.get_many_by_id(ids, visible_to=visible) if ids else {}
    home = customer.organisation_id in visible and not external(ctx, uow, actor)
    return [c for c in contacts if (c.work_order_id in seen if c.work_order_id is not None else home)]


def _party(hop: Dispatch, organisations: frozenset[int]) -> bool:
    return hop.sender_org_id in organisations or hop.receiver_org_id in organisations


def _outsider(ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder) -> frozenset[int] | None:
    """For a vendor's or partner's user reading a work order its organisation does not own: its
    organisations (what it is party to). None: the reader sees the whole work order — the operator's
    staff, and the owning party whoever it is (R15: the first-ask owner follows every step)."""
    if not external(ctx, uow, actor):
        return None
    own = visible_to(ctx, uow, actor) or frozenset()
    return None if wo.organisation_id in own else own


def shown_hops(ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, hops: list[Dispatch]) -> list[Dispatch]:
    """The owning party and the operator's staff see a work order's whole chain (R15); a vendor or
    partner it was dispatched to sees the hops its organisation sent or received."""
    own = _outsider(ctx, uow, actor, wo)
    return hops if own is None else [h for h in hops if _party(h, own)]


def shown_history(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, events: list[WorkOrderEvent]
) -> list[WorkOrderEvent]:
    """The timeline as `actor` may read it. A link to another work order names it only to those who
    may see that one too. The operator's staff see the rest of the timeline. A vendor or partner sees
    the moves, the notes (and uploaded files) meant for the customer and the internal ones of its own
    people, but not the operator's internal notes and files or the text that comes with a move; of the
    hops (with their instructions and answers, as in the list of hops), all of them on its own work
    order (R15), else those it is party to."""
    events = [_link_shown(ctx, uow, actor, e) if e.kind in LINK_EVENTS else e for e in events]
    if not sees_addresses(ctx, uow, actor):  # a corrected fault place is an address, as on the work order
        events = [_place_edit_masked(e) if _edits_place(e) else e for e in events]
    if not external(ctx, uow, actor):
        return events
    own = visible_to(ctx, uow, actor) or frozenset()
    party = _outsider(ctx, uow, actor, wo)
    authors = uow.users.get_many(
        sorted({e.actor_id for e in events if (e.note or e.kind in PRIVATE_EVENTS) and e.visibility != "customer"})
    )
    shown = []
    for e in events:
        author = authors.get(e.actor_id)
        if e.kind in HOP_EVENTS:
            if party is None or e.data.get("from_org") in party or e.data.get("to_org") in party:
                shown.append(e)
        elif e.visibility == "customer" or (author is not None and author.organisation_id in own):
            shown.append(e)
        elif e.kind not in PRIVATE_EVENTS:
            shown.append(replace(e, note=None))
    return shown


def _edits_place(e: WorkOrderEvent) -> bool:
    return e.kind is EventKind.EDITED and e.data.get("field") == "fault_place"


def _place_edit_masked(e: WorkOrderEvent) -> WorkOrderEvent:
    def masked(value: object) -> object:
        return mask_address(value) if isinstance(value, str) and value else value

    return replace(e, data={**e.data, "from": masked(e.data.get("from")), "to": masked(e.data.get("to"))})


def _link_shown(ctx: Context, uow: UnitOfWork, actor: User, e: WorkOrderEvent) -> WorkOrderEvent:
    other = e.data.get("other")
    if isinstance(other, str) and uow.work_orders.get_by_number(other, visible_to=visible_to(ctx, uow, actor)):
        return e
    return replace(e, data={k: v for k, v in e.data.items() if k != "other"}, note=None)
