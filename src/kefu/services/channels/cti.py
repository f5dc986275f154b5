"""The hotline (R1, R9): call events from the call-centre platform, the call log, answer times
against the 30-second target, and the agent's screen-pop."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from kefu.domain.contacts import CallRecord, Contact, Direction
from kefu.domain.customers import Customer, normalize_phone
from kefu.domain.errors import N_, PermissionDenied, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.workorders import OPEN_STATUS_VALUES, Channel, WorkOrder
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.changes import store
from kefu.services.context import Context
from kefu.services.customers import reveal
from kefu.services.ports import UnitOfWork, WorkOrderFilter

ANSWER_TARGET = timedelta(seconds=30)  # R9: calls answered within 30 seconds


class CallEventKind(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    HANGUP = "hangup"
    #: An outbound call placed from a work order (click-to-call): `caller` is the number dialled
    #: (the customer's), `work_order` the work order it is about; ringing/answered/hangup follow.
    DIALING = "dialing"


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    kind: CallEventKind
    at: datetime
    caller: str
    callee: str | None = None
    queue: str | None = None
    agent: str | None = None  # the agent's username on the platform
    work_order: str | None = None  # dialing: the number of the work order the call is about


@dataclass(frozen=True)
class CallView:
    call: CallRecord

    @property
    def answer_seconds(self) -> float | None:
        c = self.call
        return (c.answered_at - c.ringing_at).total_seconds() if c.answered_at and c.ringing_at else None

    @property
    def answered_in_time(self) -> bool | None:
        seconds = self.answer_seconds
        return None if seconds is None else seconds <= ANSWER_TARGET.total_seconds()


def _caller(raw: str) -> tuple[str, str | None]:
    """The number as the platform sent it, and as a customer's phone when it is one."""
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if not digits:
        raise ValidationFailed("The caller's number is missing.", field="caller")
    try:
        return digits, normalize_phone(digits)
    except ValidationFailed:
        return digits, None  # withheld or foreign numbers still make a call log entry


def record_call_event(ctx: Context, actor: User, event: CallEvent) -> CallView:
    """Apply one event to the call log (the call-centre platform reports with the token of an account
    that may register work orders). A repeated event changes nothing; events may come out of order (an
    answer before its ringing) and the call is still whole."""
    require(actor, Permission.WORKORDER_CREATE)
    return _apply(ctx, actor, event)


def _apply(ctx: Context, actor: User, event: CallEvent) -> CallView:
    """One call event in one transaction; the caller checked the permission."""
    caller, phone = _caller(event.caller)
    if event.at.tzinfo is None:
        raise ValidationFailed("The event time must carry a timezone.", field="at")
    if event.kind is CallEventKind.DIALING and not event.work_order:
        raise ValidationFailed("An outbound call names the work order it is about.", field="work_order")
    with ctx.uow(write=True) as uow:
        call = uow.channels.call(event.call_id, lock=True) or CallRecord(id=None, call_id=event.call_id, caller=caller)
        if event.kind is CallEventKind.DIALING and call.id is None:
            _dialled(ctx, uow, actor, call, event)
        call.callee = call.callee or event.callee
        call.queue = call.queue or event.queue
        if event.kind is CallEventKind.RINGING and call.ringing_at is None:
            call.ringing_at = event.at
        elif event.kind is CallEventKind.ANSWERED and call.answered_at is None:
            call.answered_at = event.at
            if event.agent:
                agent = uow.users.get_by_username(event.agent.strip().lower())
                call.agent_id = agent.id if agent else None
        elif event.kind is CallEventKind.HANGUP and call.hangup_at is None:
            call.hangup_at = event.at
        if call.customer_id is None and phone is not None:
            call.customer_id = uow.channels.find_customer_id(
                phone=phone, email=None, wechat_openid=None, account_number=None
            )
        call = uow.channels.save_call(call)
        _contact(uow, call, ctx.clock.now())
        uow.commit()
    return CallView(call)


def _dialled(ctx: Context, uow: UnitOfWork, actor: User, call: CallRecord, event: CallEvent) -> None:
    """A call placed from a work order: the call belongs to it and its customer, the timeline says
    who called. Only the operator's staff call the operator's customers, and only on work orders in
    their scope."""
    wo = scope.load_work_order(ctx, uow, actor, (event.work_order or "").strip().upper())
    if scope.external(ctx, uow, actor):
        raise PermissionDenied(role=actor.role.value, action=N_("call the customers of another organisation"))
    call.work_order_id, call.customer_id, call.agent_id = wo.id, wo.customer_id, actor.id
    call.outbound = True
    call.ringing_at = event.at
    wo.record(
        WorkOrderEvent(
            kind=EventKind.CALL_PLACED, actor_id=actor.id or 0, at=ctx.clock.now(), data={"call_id": call.call_id}
        )
    )
    wo.updated_at = ctx.clock.now()
    store(ctx, uow, wo)


def call_customer(ctx: Context, actor: User, number: str) -> CallView:
    """Click-to-call on the work-order page: the customer's number (never shown unmasked to the
    agent) is dialled by the call-centre platform; kefu records the outbound call as the CTI events
    API would (a `dialing` event), on the work order and the customer's contact history."""
    require(actor, Permission.WORKORDER_TRANSITION)
    with ctx.uow() as uow:
        wo = scope.load_work_order(ctx, uow, actor, number)
        customer = uow.customers.get(wo.customer_id)
    if customer is None or not customer.phone:
        raise ValidationFailed("The customer has no phone number to call.", field="phone")
    return _apply(
        ctx,
        actor,
        CallEvent(
            call_id=f"kefu-out-{secrets.token_hex(8)}",
            kind=CallEventKind.DIALING,
            at=ctx.clock.now(),
            caller=customer.phone,
            agent=actor.username,
            work_order=wo.number,
        ),
    )


def _contact(uow: UnitOfWork, call: CallRecord, now: datetime) -> None:
    """The call on the customer's contact history (one contact per call, kept up to date)."""
    data = {
        "call_id": call.call_id,
        "queue": call.queue,
        "agent_id": call.agent_id,
        "ringing_at": call.ringing_at.isoformat() if call.ringing_at else None,
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "hangup_at": call.hangup_at.isoformat() if call.hangup_at else None,
    }
    existing = uow.channels.contact_by_provider_id(Channel.HOTLINE, call.call_id)
    if existing is None:
        contact = Contact(
            id=None,
            channel=Channel.HOTLINE,
            direction=Direction.OUTBOUND if call.outbound else Direction.INBOUND,
            at=call.ringing_at or call.answered_at or call.hangup_at or now,
            customer_id=call.customer_id,
            body="",
            address=call.caller,
            provider_message_id=call.call_id,
            work_order_id=call.work_order_id,
            data=data,
        )
        if uow.channels.add_contact(contact) and call.contact_id is None:
            call.contact_id = contact.id
            uow.channels.save_call(call)
        return
    existing.data, existing.customer_id = data, existing.customer_id or call.customer_id
    uow.channels.update_contact(existing)


@dataclass(frozen=True)
class ScreenPop:
    caller: str
    customers: list[Customer]
    open_work_orders: list[WorkOrder]
    recent_contacts: list[Contact]
    call: CallView | None
    history: list[CallView] = field(default_factory=list)


def screen_pop(ctx: Context, actor: User, caller: str) -> ScreenPop:
    """What the agent sees as the phone rings: who calls, their open work orders, their last contacts.
    The caller's number finds the customer's card even outside the agent's scope (they are on the
    line, R15); the profile, the work orders and the contacts only within it."""
    require(actor, Permission.READ)
    number, phone = _caller(caller)
    with ctx.uow() as uow:
        customer_id = (
            uow.channels.find_customer_id(phone=phone, email=None, wechat_openid=None, account_number=None)
            if phone
            else None
        )
        found = uow.customers.get(customer_id) if customer_id is not None else None
        customers: list[Customer] = []
        open_orders: list[WorkOrder] = []
        contacts: list[Contact] = []
        if found is not None and not scope.customer_in_scope(ctx, uow, actor, found):
            customers = [found.caller_card()]
        elif found is not None:
            customers = [reveal(uow, ctx, actor, found, None, "screen-pop")]
            orders = uow.work_orders.find(
                WorkOrderFilter(
                    customer_id=found.id, visible_to=scope.visible_to(ctx, uow, actor), statuses=OPEN_STATUS_VALUES
                ),
                20,
            )
            open_orders = scope.shown_work_orders(ctx, uow, actor, orders)
            contacts = scope.shown_contacts(ctx, uow, actor, found, uow.channels.contacts_of(found.id or 0, 10))
        calls = [CallView(c) for c in uow.channels.recent_calls(number, 5) if _call_shown(ctx, uow, actor, c)]
    current = next((c for c in calls if c.call.hangup_at is None), None)
    return ScreenPop(
        caller=number,
        customers=customers,
        open_work_orders=open_orders,
        recent_contacts=contacts,
        call=current,
        history=calls,
    )


def _call_shown(ctx: Context, uow: UnitOfWork, actor: User, call: CallRecord) -> bool:
    """A call of this number: one that became a work order, if the actor may open that; one that did
    not, for the operator's staff (the hotline's own log)."""
    if call.work_order_id is None:
        return not scope.external(ctx, uow, actor)
    return scope.load_work_order_by_id(ctx, uow, actor, call.work_order_id) is not None
