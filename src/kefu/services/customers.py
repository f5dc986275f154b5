"""Use cases for customers. Personal data leaves here masked unless the role may see it and asks.

A customer belongs to the organisation that registered them, and is seen within that organisation's
subtree and by whoever has a work order of theirs in scope (kefu.services.access.scope). Anyone else
who has the customer's whole phone number in front of them (the caller on the line, a customer at
the counter) finds only the caller card: name, masked number and tier, enough to register a work
order for them (R15) and nothing of their profile or history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kefu.domain.audit import AuditAction, Unmasking
from kefu.domain.contacts import Attachment, Contact
from kefu.domain.customers import Customer, CustomerChange, Device, Tier, normalize_phone
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.replies import ReplyStatus
from kefu.domain.visits import Visit
from kefu.domain.workorders import WorkOrder
from kefu.services import audit
from kefu.services.access import authz, scope
from kefu.services.access.authz import require
from kefu.services.changes import store
from kefu.services.context import Context
from kefu.services.ports import CustomerFilter, UnitOfWork, WorkOrderFilter
from kefu.services.sla import clocks


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
    with ctx.uow(write=True) as uow:
        stored = add_customer(ctx, uow, actor, new)
        uow.commit()
    return stored.masked()


def add_customer(ctx: Context, uow: UnitOfWork, actor: User, new: NewCustomer) -> Customer:
    """Inside a use case (registering a customer, or a work order for a caller not on file): the
    customer, stored in the actor's organisation. The caller checks `customer.create`."""
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
        organisation_id=actor.organisation_id,
    )
    return uow.customers.add(customer)


def edit_customer(
    ctx: Context, actor: User, customer_id: int, changes: dict[str, object], *, reason: str | None = None
) -> Customer:
    """Correct a customer's record (R6): each changed field goes into the customer's history (who,
    when, from → to, personal data masked) and the correction is an audit row, in one transaction.
    Only customers of the actor's organisations; anyone else's is "no such customer". When tier or
    region changed, the open work orders' time limits follow the policy that now applies."""
    require(actor, Permission.CUSTOMER_CREATE)
    reason = _reason(reason)
    with ctx.uow(write=True) as uow:
        uow.customers.lock(customer_id)
        customer = scope.load_own_customer(ctx, uow, actor, customer_id)
        changes_made = customer.correct(changes)
        now = ctx.clock.now()
        uow.customers.save(customer)
        uow.customers.add_changes(customer_id, changes_made, actor_id=actor.id or 0, at=now, reason=reason)
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.CUSTOMER_CHANGED,
            subject_type="customer",
            subject_id=customer_id,
            customer_id=customer_id,
            reason=reason,
            details={"fields": [c.field for c in changes_made]},
        )
        if {"tier", "region"} & {c.field for c in changes_made}:
            _follow_profile(ctx, uow, customer_id, now)
        uow.commit()
    return customer.masked()


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 1000:
        raise ValidationFailed("The reason is longer than 1,000 characters.", field="reason")
    return reason


def _follow_profile(ctx: Context, uow: UnitOfWork, customer_id: int, now: datetime) -> None:
    """The customer's open work orders under the time limits their (changed) profile now gives."""

    profile = uow.customers.profile_of(customer_id, now.astimezone(ctx.timezone).date())
    assert profile is not None
    for wo in _work_orders_of(uow, customer_id):
        if wo.is_open:
            clocks.reevaluate(ctx, uow, wo, profile, now, reason=None)
            if wo.events:
                store(ctx, uow, wo)


def _work_orders_of(uow: UnitOfWork, customer_id: int) -> list[WorkOrder]:
    """Every work order of the customer, whoever's they are (a merge moves them all)."""
    found: list[WorkOrder] = []
    before: int | None = None
    while page := uow.work_orders.find(WorkOrderFilter(customer_id=customer_id, before_id=before), 500):
        found += page
        before = page[-1].id
        if len(page) < 500:
            break
    return found


#: The identifiers a merged record passes to the survivor where the survivor has none.
_IDENTITIES = ("phone", "email", "wechat_openid", "account_number")


def merge_customers(
    ctx: Context, actor: User, survivor_id: int, merged_id: int, *, reason: str | None = None
) -> Customer:
    """Fold a duplicate record (an SMS-born "新客户") into the customer's real one, in one
    transaction: its work orders (each with an `edited` event, its time limits following the
    survivor's profile), contacts and calls move to the survivor; the identifiers the survivor lacks
    (phone, e-mail, WeChat openid, account number) are copied to it, and the duplicate stays as
    "merged into" — its identifiers now find the survivor, its history and links stay. Both must be
    customers of the actor's organisations (anyone else's: "no such customer"). Audited."""
    require(actor, Permission.CUSTOMER_CREATE)
    reason = _reason(reason)
    if survivor_id == merged_id:
        raise ValidationFailed("A customer cannot be merged into itself.", field="merged_id")
    with ctx.uow(write=True) as uow:
        for customer_id in sorted((survivor_id, merged_id)):  # one order: two merges never deadlock
            uow.customers.lock(customer_id)
        survivor = scope.load_own_customer(ctx, uow, actor, survivor_id)
        merged = scope.load_own_customer(ctx, uow, actor, merged_id)
        for record, name in ((merged, "merged_id"), (survivor, "survivor_id")):
            if record.merged_into_id is not None:
                raise ValidationFailed(
                    "Customer {id} was merged into customer {into} already.",
                    field=name,
                    id=record.id,
                    into=record.merged_into_id,
                )
        now = ctx.clock.now()
        signer = actor.id or 0
        note = reason or f"→ {survivor_id}"
        copied = {n: getattr(merged, n) for n in _IDENTITIES if getattr(merged, n) and not getattr(survivor, n)}
        survivor_changes = survivor.correct_identities(copied) if copied else []
        merged.merged_into_id = survivor_id
        uow.customers.save(survivor)
        uow.customers.save(merged)
        moved_orders = _move_work_orders(ctx, uow, merged_id, survivor_id, signer, now, note)
        moved_contacts = uow.customers.move_contacts(merged_id, survivor_id)
        survivor_changes.append(CustomerChange("merged", None, f"{merged.name} (#{merged_id})"))
        uow.customers.add_changes(survivor_id, survivor_changes, actor_id=signer, at=now, reason=reason)
        uow.customers.add_changes(
            merged_id,
            [CustomerChange("merged_into_id", None, f"#{survivor_id}")],
            actor_id=signer,
            at=now,
            reason=reason,
        )
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.CUSTOMER_MERGED,
            subject_type="customer",
            subject_id=survivor_id,
            customer_id=survivor_id,
            reason=reason,
            details={
                "merged": merged_id,
                "work_orders": moved_orders,
                "contacts": moved_contacts,
                "copied": sorted(copied),
            },
        )
        uow.commit()
    return survivor.masked()


def _move_work_orders(
    ctx: Context, uow: UnitOfWork, from_id: int, to_id: int, actor_id: int, now: datetime, note: str
) -> int:

    profile = uow.customers.profile_of(to_id, now.astimezone(ctx.timezone).date())
    assert profile is not None
    orders = _work_orders_of(uow, from_id)
    for wo in orders:
        wo.move_to_customer(to_id, actor_id=actor_id, at=now, reason=note)
        if wo.is_open:
            clocks.reevaluate(ctx, uow, wo, profile, now, reason=note)
        store(ctx, uow, wo)
    return len(orders)


@dataclass(frozen=True)
class HistoryEntry:
    """One correction of a customer's record, with who made it."""

    at: datetime
    actor: str
    change: CustomerChange
    reason: str | None


def customer_history(ctx: Context, actor: User, customer_id: int, *, limit: int = 100) -> list[HistoryEntry]:
    """The corrections and merges of a customer's record, newest first (values masked as stored)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        scope.load_customer(ctx, uow, actor, customer_id)
        found = uow.customers.changes_of(customer_id, limit)
        people = uow.users.get_many(sorted({r.actor_id for r in found})) if found else {}
    return [
        HistoryEntry(
            r.at, people[r.actor_id].display_name if r.actor_id in people else str(r.actor_id), r.change, r.reason
        )
        for r in found
    ]


def reveal(
    uow: UnitOfWork, ctx: Context, actor: User, customer: Customer, unmask: Unmasking | None, shown_in: str
) -> Customer:
    """The customer as this actor may see it: masked, unless `unmask` gives the reason for seeing
    the personal data (R3); then the view is an audit row in the same transaction — who, whose,
    why, and `shown_in` (the record it was shown in, e.g. "work_order:GD20261130000001").
    A vendor's or partner's user never sees personal data unmasked, whatever the role."""
    if unmask is None:
        return customer.masked()
    authz.require_operator(ctx, uow, actor, Permission.PII_VIEW)
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
        customer = scope.load_customer(ctx, uow, actor, customer_id)
        shown = reveal(uow, ctx, actor, customer, unmask, f"customer:{customer_id}")
        uow.commit()
    return shown


def whole_phone(raw: str | None) -> str | None:
    """The number if it is a whole phone number (mobile or landline with area code), else None."""
    try:
        return normalize_phone(raw) if raw else None
    except ValidationFailed:
        return None


def search_customers(
    ctx: Context, actor: User, *, phone: str | None, name: str | None, before_id: int | None, limit: int
) -> list[Customer]:
    """Find customers by (part of) the phone number or the start of the name, newest first, within
    the actor's data scope. A whole phone number also finds a customer outside it, as the caller card
    only. A vendor's or partner's user searches by the whole number only."""
    require(actor, Permission.READ)
    typed = (phone or "").strip()
    phone = "".join(ch for ch in typed if ch in "0123456789") or None  # ASCII digits; "²" is no digit
    if typed and (phone is None or len(phone) < 4):
        raise ValidationFailed("Give at least 4 digits of the phone number to search.", field="phone")
    whole = whole_phone(phone)
    with ctx.uow() as uow:
        visible = scope.visible_to(ctx, uow, actor)
        if scope.external(ctx, uow, actor) and (name or whole is None):
            # A vendor facing a caller finds that one customer by the whole number, nothing more.
            raise ValidationFailed("Search by the customer's whole 11-digit phone number.", field="phone")
        flt = CustomerFilter(phone=phone, name=(name or "").strip() or None, before_id=before_id, visible_to=visible)
        found = [c.masked() for c in uow.customers.search(flt, limit)]
        if whole is not None and visible is not None and not name:
            shown = {c.id for c in found}
            cards = uow.customers.search(CustomerFilter(phone=whole, before_id=before_id), limit)
            found += [c.caller_card() for c in cards if c.phone == whole and c.id not in shown]
            found = sorted(found, key=lambda c: c.id or 0, reverse=True)[:limit]
    return found


@dataclass(frozen=True)
class TimelineItem:
    """One entry of a customer's history across channels (R6)."""

    kind: str  # contact | work_order | visit | reply
    at: datetime
    contact: Contact | None = None
    work_order: WorkOrder | None = None
    visit: Visit | None = None
    reply: ReplyStatus | None = None  # a reply to the customer with its delivery state (issue #12)


def customer_timeline(ctx: Context, actor: User, customer_id: int, *, limit: int = 50) -> list[TimelineItem]:
    """Contacts (calls, messages in and out), work orders and field visits of a customer, newest
    first, within the actor's data scope: only the work orders it may open, their visits and
    contacts, and (for the customer's own organisations) the contacts tied to no work order."""
    require(actor, Permission.READ)
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=200)
    with ctx.uow() as uow:
        customer = scope.load_customer(ctx, uow, actor, customer_id)
        visible = scope.visible_to(ctx, uow, actor)
        orders = uow.work_orders.find(WorkOrderFilter(customer_id=customer_id, visible_to=visible), limit)
        items = [
            TimelineItem("work_order", w.created_at, work_order=w)
            for w in scope.shown_work_orders(ctx, uow, actor, orders)
        ]
        contacts = scope.shown_contacts(ctx, uow, actor, customer, uow.channels.contacts_of(customer_id, limit))
        # A reply shows once, with its delivery state (queued, sent, failed), not again as the
        # outbound message its delivery recorded.
        items += [TimelineItem("contact", c.at, contact=c) for c in contacts if not c.data.get("reply_id")]
        if not scope.external(ctx, uow, actor):
            sent = uow.replies.of_customer(customer_id, limit)
            mine = uow.work_orders.get_many_by_id(sorted({r.reply.work_order_id for r in sent}), visible_to=visible)
            items += [
                TimelineItem("reply", r.reply.created_at, reply=r.masked())
                for r in sent
                if r.reply.work_order_id in mine
            ]
        for w in orders[:20]:
            items += [TimelineItem("visit", v.window_start, visit=v) for v in uow.visits.of_work_order(w.id or 0)]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def contact_attachment(ctx: Context, actor: User, contact_id: int, position: int) -> Attachment:
    """A contact's file, for whoever may see the contact (kefu.services.access.scope.shown_contacts)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        found = uow.channels.attachment(contact_id, position)
        customer = uow.customers.get(found.contact.customer_id) if found and found.contact.customer_id else None
        if found is None or customer is None or not scope.shown_contacts(ctx, uow, actor, customer, [found.contact]):
            raise NotFound(kind=N_("Attachment"), key=f"{contact_id}/{position}")
        return found.attachment
