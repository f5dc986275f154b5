"""Use cases for customers. Personal data leaves here masked unless the role may see it and asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kefu.domain.audit import AuditAction, Unmasking
from kefu.domain.contacts import Attachment, Contact
from kefu.domain.customers import Customer, Device, Tier
from kefu.domain.errors import N_, NotFound, PermissionDenied, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.visits import Visit
from kefu.domain.workorders import WorkOrder
from kefu.services import audit
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import CustomerFilter, UnitOfWork, WorkOrderFilter


@dataclass
class NewCustomer:
    name: str
    phone: str
    tier: Tier | None = None
    brand: str | None = None
    region: str | None = None
    email: str | None = None
    address: str | None = None
    id_number: str | None = None
    services: list[str] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def register_customer(ctx: Context, actor: User, new: NewCustomer) -> Customer:
    require(actor, Permission.CUSTOMER_CREATE)
    customer = Customer.register(
        name=new.name,
        phone=new.phone,
        at=ctx.clock.now(),
        tier=new.tier,
        brand=new.brand,
        region=new.region,
        email=new.email,
        address=new.address,
        id_number=new.id_number,
        services=new.services,
        devices=new.devices,
        tags=new.tags,
    )
    with ctx.uow(write=True) as uow:
        stored = uow.customers.add(customer)
        uow.commit()
    return stored.masked()


def reveal(
    uow: UnitOfWork, ctx: Context, actor: User, customer: Customer, unmask: Unmasking | None, shown_in: str
) -> Customer:
    """The customer as this actor may see it: masked, unless `unmask` gives the reason for seeing
    the personal data (R3); then the view is an audit row in the same transaction — who, whose,
    why, and `shown_in` (the record it was shown in, e.g. "work_order:GD20261130000001").
    A vendor's or partner's user never sees personal data unmasked, whatever the role."""
    if unmask is None:
        return customer.masked()
    require(actor, Permission.PII_VIEW)
    if scope.external(ctx, uow, actor):
        raise PermissionDenied(role=actor.role.value, action=N_("see unmasked personal data"))
    assert customer.id is not None
    audit.record(
        ctx,
        uow,
        actor,
        AuditAction.PERSONAL_DATA_UNMASKED,
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        reason=unmask.reason.value,
        details={"record": shown_in, "note": unmask.note},
    )
    return customer


def get_customer(ctx: Context, actor: User, customer_id: int, *, unmask: Unmasking | None = None) -> Customer:
    require(actor, Permission.READ)
    with ctx.uow(write=unmask is not None) as uow:
        customer = uow.customers.get(customer_id)
        if customer is None or not _may_see(ctx, uow, actor, customer_id):
            raise NotFound(kind=N_("Customer"), key=customer_id)
        shown = reveal(uow, ctx, actor, customer, unmask, f"customer:{customer_id}")
        uow.commit()
    return shown


def search_customers(
    ctx: Context, actor: User, *, phone: str | None, name: str | None, before_id: int | None, limit: int
) -> list[Customer]:
    """Find customers by (part of) the phone number or the start of the name; newest first."""
    require(actor, Permission.READ)
    phone = "".join(ch for ch in phone or "" if ch.isdigit()) or None
    if phone is not None and len(phone) < 4:
        raise ValidationFailed("Give at least 4 digits of the phone number to search.", field="phone")
    flt = CustomerFilter(phone=phone, name=(name or "").strip() or None, before_id=before_id)
    with ctx.uow() as uow:
        if scope.external(ctx, uow, actor) and (flt.name or phone is None or len(phone) != 11):
            # A vendor facing a caller finds that one customer by the whole number, nothing more.
            raise ValidationFailed("Search by the customer's whole 11-digit phone number.", field="phone")
        found = uow.customers.search(flt, limit)
        if scope.external(ctx, uow, actor):
            found = [c for c in found if c.phone == phone]
    return [c.masked() for c in found]


def _may_see(ctx: Context, uow: UnitOfWork, actor: User, customer_id: int) -> bool:
    """The operator's own staff see the operator's customers; a vendor's or partner's user sees a
    customer only through a work order owned by or dispatched to its organisation."""
    if not scope.external(ctx, uow, actor):
        return True
    flt = WorkOrderFilter(customer_id=customer_id, visible_to=scope.visible_to(ctx, uow, actor))
    return bool(uow.work_orders.find(flt, 1))


@dataclass(frozen=True)
class TimelineItem:
    """One entry of a customer's history across channels (R6)."""

    kind: str  # contact | work_order | visit
    at: datetime
    contact: Contact | None = None
    work_order: WorkOrder | None = None
    visit: Visit | None = None


def customer_timeline(ctx: Context, actor: User, customer_id: int, *, limit: int = 50) -> list[TimelineItem]:
    """Contacts (calls, messages in and out), work orders and field visits of a customer, newest
    first, within the actor's data scope."""
    require(actor, Permission.READ)
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=200)
    with ctx.uow() as uow:
        if uow.customers.get(customer_id) is None or not _may_see(ctx, uow, actor, customer_id):
            raise NotFound(kind=N_("Customer"), key=customer_id)
        visible = scope.visible_to(ctx, uow, actor)
        orders = uow.work_orders.find(WorkOrderFilter(customer_id=customer_id, visible_to=visible), limit)
        seen = {w.id for w in orders}
        items = [TimelineItem("work_order", w.created_at, work_order=w) for w in orders]
        outside = scope.external(ctx, uow, actor)  # a vendor sees only the contacts of its work orders
        items += [
            TimelineItem("contact", c.at, contact=c)
            for c in uow.channels.contacts_of(customer_id, limit)
            if not outside or c.work_order_id in seen
        ]
        for w in orders[:20]:
            items += [TimelineItem("visit", v.window_start, visit=v) for v in uow.visits.of_work_order(w.id or 0)]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def contact_attachment(ctx: Context, actor: User, contact_id: int, position: int) -> Attachment:
    """A contact's file, for whoever may see the contact: its work order, or (operator staff) its customer."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        found = uow.channels.attachment(contact_id, position)
        if found is None:
            raise NotFound(kind=N_("Attachment"), key=f"{contact_id}/{position}")
        contact, file = found
        if contact.work_order_id is not None:
            allowed = scope.load_work_order_by_id(ctx, uow, actor, contact.work_order_id) is not None
        else:
            allowed = contact.customer_id is not None and not scope.external(ctx, uow, actor)
        if not allowed:
            raise NotFound(kind=N_("Attachment"), key=f"{contact_id}/{position}")
        return file
