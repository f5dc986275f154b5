"""The customer's self-service (R1, R4, R18): submit a request, follow a work order by its number
after a code sent by SMS to the phone on record, add information, confirm the resolution or say it
is not fixed, rate.

There is no customer account: proving the phone with a one-time code opens one work order for a
while (the portal keeps that in a signed cookie). What the customer does is signed by the `system`
account on the work order's timeline, marked as the customer's.

Anyone may type anyone's phone number, so without that code the portal reveals nothing and joins
nothing: a submission always opens a new work order (never threads into the open one of the
customer whose number it carries), and a code request answers the same whether the number and
the phone match or not. Submissions, code requests and code checks are rate-limited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kefu.domain.contacts import Contact
from kefu.domain.customers import normalize_phone
from kefu.domain.errors import N_, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.replies import DeliveryState, Reply
from kefu.domain.values import is_digits, same_secret
from kefu.domain.visits import Visit
from kefu.domain.workorders import Channel, Status, WorkOrder, WorkOrderType, is_work_order_number
from kefu.services.access.system import system_account
from kefu.services.changes import move, store
from kefu.services.channels import intake, notify
from kefu.services.context import Context
from kefu.services.ports import CodeRecord, UnitOfWork
from kefu.services.ratelimits import Limit

CODE_LIFETIME = timedelta(minutes=10)
CODES_PER_HOUR = 5
ATTEMPTS_PER_CODE = 5
#: What the customer sees of the timeline: no internal notes, no staff names.
CUSTOMER_EVENTS = frozenset(
    {
        EventKind.CREATED,
        EventKind.STATUS_CHANGED,
        EventKind.VISIT_SCHEDULED,
        EventKind.VISIT_COMPLETED,
        EventKind.CONTACT_RECEIVED,
        EventKind.CUSTOMER_CONFIRMED,
        EventKind.CUSTOMER_RATED,
        EventKind.NOTE_ADDED,
        EventKind.FILE_ADDED,  # those meant for the customer
    }
)


class NoMatch(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(N_("The work-order number and the phone number do not match any request."), field="number")


def _code_hash(ctx: Context, work_order_id: int, code: str) -> str:
    """Keyed: a copy of the database does not give the codes away (a million tries would)."""
    return ctx.codes.digest(f"portal code:{work_order_id}:{code}")


def _matching(uow: UnitOfWork, number: str, phone: str) -> WorkOrder:
    """The work order if this phone is its customer's; one refusal for both kinds of mistake."""
    wo = uow.work_orders.get_by_number(number.strip().upper()) if is_work_order_number(number.strip().upper()) else None
    customer = uow.customers.get(wo.customer_id) if wo else None
    try:
        given = normalize_phone(phone)
    except ValidationFailed:
        raise NoMatch() from None
    if wo is None or customer is None or customer.phone != given:
        raise NoMatch()
    return wo


@dataclass(frozen=True)
class Submission:
    """A request typed into the portal's registration template (R2)."""

    name: str
    phone: str
    type: WorkOrderType
    description: str
    category: str | None = None
    title: str | None = None
    device: str | None = None
    fault_time: datetime | None = None
    place: str | None = None


def submit(ctx: Context, submission: Submission, *, address: str) -> intake.IntakeResult:
    """A request from the portal: always a new work order (the phone number is only claimed), its
    number and promised time shown to whoever submitted it and sent by SMS to that phone."""
    ctx.rate_limits.check(Limit.PORTAL_SUBMIT_ADDRESS, address)
    ctx.rate_limits.check(Limit.PORTAL_SUBMIT_PHONE, normalize_phone(submission.phone))
    return intake.receive(
        ctx,
        intake.Inbound(
            channel=Channel.WEB,
            body=submission.description,
            phone=submission.phone,
            name=submission.name,
            type=submission.type,
            category=submission.category,
            title=submission.title,
            fault_time=submission.fault_time,
            fault_place=submission.place,
            device=submission.device,
            data={"portal": True, "identity_verified": False},
            identity_verified=False,
        ),
    )


def send_code(ctx: Context, number: str, phone: str, *, address: str, locale: str = "zh_CN") -> None:
    """Send a one-time code by SMS to the phone on record, if `phone` is it (at most 5 an hour for a
    work order). Answers the same whether it matched or not, so it tells no one which numbers
    belong to which phones; a caller shows "if they match, a code was sent"."""
    ctx.rate_limits.check(Limit.PORTAL_CODE_ADDRESS, address)
    ctx.rate_limits.check(Limit.PORTAL_CODE_NUMBER, number.strip().upper()[:40])
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        try:
            wo = _matching(uow, number, phone)
        except NoMatch:
            return
        assert wo.id is not None
        if uow.channels.codes_since(wo.id, now - timedelta(hours=1)) >= CODES_PER_HOUR:
            return
        code = f"{secrets.randbelow(10**6):06d}"
        customer = uow.customers.get(wo.customer_id)
        assert customer is not None and customer.phone is not None
        uow.channels.add_code(
            CodeRecord(
                id=None,
                work_order_id=wo.id,
                phone=customer.phone,
                code_hash=_code_hash(ctx, wo.id, code),
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        notify.to_customer(
            ctx,
            uow,
            wo,
            "verification_code",
            channel=Channel.SMS,
            address=customer.phone,
            locale=locale,
            secrets={"code": code},
        )
        uow.commit()


def verify_code(ctx: Context, number: str, code: str, *, address: str) -> str:
    """The work-order number, if the code is the latest one sent for it and still valid."""
    ctx.rate_limits.check(Limit.PORTAL_VERIFY_ADDRESS, address)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        wo = uow.work_orders.get_by_number(number.strip().upper())
        record = uow.channels.latest_code(wo.id, now) if wo and wo.id else None
        wrong = ValidationFailed("The code is wrong or has expired; ask for a new one.", field="code")
        if wo is None or record is None or record.id is None or record.attempts >= ATTEMPTS_PER_CODE:
            raise wrong
        given = code.strip()
        ok = len(given) == 6 and is_digits(given) and same_secret(record.code_hash, _code_hash(ctx, wo.id or 0, given))
        uow.channels.count_attempt(record.id, used_at=now if ok else None)
        uow.commit()
    if not ok:
        raise wrong
    return wo.number


@dataclass(frozen=True)
class CustomerView:
    work_order: WorkOrder
    history: list[WorkOrderEvent]
    visits: list[Visit]
    contacts: list[Contact]
    promised: str
    #: What customer service wrote to the customer and was delivered (portal messages, SMS, e-mail …).
    replies: list[Reply] = field(default_factory=list)


def view(ctx: Context, number: str) -> CustomerView:
    """The work order as its customer sees it (after `verify_code`)."""
    with ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        if wo is None or wo.id is None:
            raise NoMatch()
        history = [
            e
            for e in uow.work_orders.history(wo.id)
            if e.kind in CUSTOMER_EVENTS
            and (e.kind not in (EventKind.NOTE_ADDED, EventKind.FILE_ADDED) or e.visibility == "customer")
        ]
        promised = notify.values_for(ctx, uow, wo, "zh_CN", {})["promised"]
        return CustomerView(
            work_order=wo,
            history=history,
            visits=uow.visits.of_work_order(wo.id),
            contacts=uow.channels.contacts_of_work_order(wo.id),
            promised=str(promised),
            replies=[r.reply for r in uow.replies.of_work_order(wo.id) if r.state is DeliveryState.SENT],
        )


def add_information(ctx: Context, number: str, text: str) -> None:
    """More information from the customer: a contact on the work order, through the intake."""
    with ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        customer = uow.customers.get(wo.customer_id) if wo else None
    if wo is None or customer is None:
        raise NoMatch()
    intake.receive(
        ctx,
        intake.Inbound(
            channel=Channel.WEB,
            body=text,
            subject=wo.number,
            phone=customer.phone,
            email=None if customer.phone else customer.email,
            answer=False,
        ),
    )


def confirm(ctx: Context, number: str, *, fixed: bool, comment: str | None = None) -> WorkOrder:
    """The customer confirms the resolution (the work order closes) or says it is not fixed (it
    re-opens, R18)."""
    with ctx.uow(write=True) as uow:
        wo = uow.work_orders.get_by_number(number)
        system = system_account(ctx, uow)
        if wo is None or system.id is None:
            raise NoMatch()
        if wo.status not in (Status.RESOLVED, Status.CALLBACK):
            raise ValidationFailed("There is nothing to confirm yet: the work order is not resolved.", field="fixed")
        now = ctx.clock.now()
        note = (comment or "").strip()[:1000] or None
        wo.record(
            WorkOrderEvent(
                kind=EventKind.CUSTOMER_CONFIRMED,
                actor_id=system.id,
                at=now,
                note=note,
                visibility="customer",
                data={"fixed": fixed},
            )
        )
        target = Status.CLOSED if fixed else Status.IN_PROGRESS
        move(ctx, wo, target, actor_id=system.id, at=now, note=note)
        store(ctx, uow, wo)
        uow.commit()
    return wo


def rate(ctx: Context, number: str, score: int, comment: str | None = None) -> None:
    if not 1 <= score <= 5:
        raise ValidationFailed("Give 1 to 5 stars.", field="score")
    with ctx.uow(write=True) as uow:
        wo = uow.work_orders.get_by_number(number)
        system = system_account(ctx, uow)
        if wo is None or system.id is None:
            raise NoMatch()
        if wo.status not in (Status.RESOLVED, Status.CALLBACK, Status.CLOSED):
            raise ValidationFailed("A work order can be rated once it is resolved.", field="score")
        if any(e.kind is EventKind.CUSTOMER_RATED for e in uow.work_orders.history(wo.id or 0)):
            raise ValidationFailed("This work order was rated already; thank you.", field="score")
        wo.record(
            WorkOrderEvent(
                kind=EventKind.CUSTOMER_RATED,
                actor_id=system.id,
                at=ctx.clock.now(),
                note=(comment or "").strip()[:1000] or None,
                visibility="customer",
                data={"score": score},
            )
        )
        uow.work_orders.append_events(wo)
        uow.commit()
