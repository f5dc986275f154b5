"""Channel endpoints for agents: CTI call events and the screen-pop, the customer's timeline across
channels with the files of contacts, and the templates of messages to customers. What providers push
(SMS, WeChat) comes in through `kefu.api.webhooks`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.replies import ReplyOut
from kefu.api.schemas import CustomerOut, Moment, Strict, WorkOrderOut
from kefu.domain.contacts import Contact
from kefu.domain.customers import mask_email, mask_phone
from kefu.http.attachments import attachment_headers
from kefu.services import customers as customer_svc
from kefu.services.channels import cti, notify

router = APIRouter(tags=["channels"])


class ContactOut(BaseModel):
    id: int | None
    channel: str
    direction: str
    at: datetime
    address: str | None = Field(description="the customer's number, address or openid, masked")
    subject: str | None
    body: str
    work_order_id: int | None
    attachments: list[dict[str, Any]]
    data: dict[str, Any]

    @classmethod
    def of(cls, c: Contact) -> ContactOut:
        address = c.address
        if address:
            address = mask_email(address) if "@" in address else mask_phone(address) if address.isdigit() else address
        return cls(
            id=c.id,
            channel=c.channel.value,
            direction=c.direction.value,
            at=c.at,
            address=address,
            subject=c.subject,
            body=c.body,
            work_order_id=c.work_order_id,
            attachments=[
                {**a.describe(), "url": f"/api/v1/contacts/{c.id}/attachments/{i}"} for i, a in enumerate(c.attachments)
            ],
            data=c.data,
        )


# --- CTI --------------------------------------------------------------------------------------------


class CallEventIn(Strict):
    call_id: Annotated[str, Field(min_length=1, max_length=100)]
    event: cti.CallEventKind
    at: Moment
    caller: Annotated[str, Field(min_length=1, max_length=30)]
    callee: Annotated[str | None, Field(max_length=30)] = None
    queue: Annotated[str | None, Field(max_length=100)] = None
    agent: Annotated[str | None, Field(max_length=64, description="the agent's kefu username")] = None
    work_order: Annotated[
        str | None,
        Field(
            max_length=16,
            description="dialing (an outbound call, e.g. click-to-call): the work order it is about; "
            "caller is then the number dialled",
        ),
    ] = None


class CallOut(BaseModel):
    call_id: str
    caller: str
    callee: str | None
    queue: str | None
    agent_id: int | None
    ringing_at: datetime | None
    answered_at: datetime | None
    hangup_at: datetime | None
    answer_seconds: float | None
    answered_in_time: bool | None = Field(description="answered within 30 seconds (R9)")
    customer_id: int | None
    work_order_id: int | None

    @classmethod
    def of(cls, v: cti.CallView) -> CallOut:
        c = v.call
        return cls(
            call_id=c.call_id,
            caller=mask_phone(c.caller) if c.caller.isdigit() else c.caller,
            callee=c.callee,
            queue=c.queue,
            agent_id=c.agent_id,
            ringing_at=c.ringing_at,
            answered_at=c.answered_at,
            hangup_at=c.hangup_at,
            answer_seconds=v.answer_seconds,
            answered_in_time=v.answered_in_time,
            customer_id=c.customer_id,
            work_order_id=c.work_order_id,
        )


@router.post("/cti/events", response_model=CallOut)
def call_event(body: CallEventIn, ctx: Ctx, user: CurrentUser) -> CallOut:
    """A call event from the call-centre platform (ringing, answered, hangup; dialing: an outbound call
    about a work order). Repeats change nothing."""
    return CallOut.of(
        cti.record_call_event(
            ctx,
            user,
            cti.CallEvent(
                call_id=body.call_id,
                kind=body.event,
                at=body.at,
                caller=body.caller,
                callee=body.callee,
                queue=body.queue,
                agent=body.agent,
                work_order=body.work_order,
            ),
        )
    )


class ScreenPopOut(BaseModel):
    caller: str
    customers: list[CustomerOut]
    open_work_orders: list[WorkOrderOut]
    recent_contacts: list[ContactOut]
    call: CallOut | None


@router.get("/cti/screen-pop", response_model=ScreenPopOut)
def screen_pop(
    caller: Annotated[str, Query(min_length=3, max_length=30)],
    ctx: Ctx,
    user: CurrentUser,
) -> ScreenPopOut:
    """Who is calling: the customer (masked), their open work orders and their latest contacts."""
    pop = cti.screen_pop(ctx, user, caller)
    return ScreenPopOut(
        caller=mask_phone(pop.caller) if pop.caller.isdigit() else pop.caller,
        customers=[CustomerOut.of(c, masked=True) for c in pop.customers],
        open_work_orders=[WorkOrderOut.of(w) for w in pop.open_work_orders],
        recent_contacts=[ContactOut.of(c) for c in pop.recent_contacts],
        call=CallOut.of(pop.call) if pop.call else None,
    )


# --- customer 360 ------------------------------------------------------------------------------------


class TimelineItemOut(BaseModel):
    kind: str = Field(
        description="contact, work_order, visit or reply (a reply to the customer, with its delivery state)"
    )
    at: datetime
    contact: ContactOut | None = None
    work_order: WorkOrderOut | None = None
    visit: dict[str, Any] | None = None
    reply: ReplyOut | None = None


@router.get("/customers/{customer_id}/timeline", response_model=list[TimelineItemOut])
def timeline(
    customer_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TimelineItemOut]:
    """Everything with this customer across channels — calls, messages in and out, work orders,
    field visits — newest first."""
    out = []
    for item in customer_svc.customer_timeline(ctx, user, customer_id, limit=limit):
        visit = None
        if item.visit is not None:
            v = item.visit
            visit = {
                "id": v.id,
                "work_order_id": v.work_order_id,
                "status": v.status.value,
                "window_start": v.window_start,
                "window_end": v.window_end,
                "outcome": v.outcome.value if v.outcome else None,
            }
        out.append(
            TimelineItemOut(
                kind=item.kind,
                at=item.at,
                contact=ContactOut.of(item.contact) if item.contact else None,
                work_order=WorkOrderOut.of(item.work_order) if item.work_order else None,
                visit=visit,
                reply=ReplyOut.of(item.reply) if item.reply else None,
            )
        )
    return out


@router.get(
    "/contacts/{contact_id}/attachments/{position}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def attachment(
    contact_id: Id,
    position: Annotated[int, Path(ge=0, le=100)],
    ctx: Ctx,
    user: CurrentUser,
) -> Response:
    """A file that came with a contact (e.g. an e-mail's screenshot), for those who may see the contact."""
    found = customer_svc.contact_attachment(ctx, user, contact_id, position)
    return Response(found.content or b"", media_type=found.content_type, headers=attachment_headers(found))


# --- templates ----------------------------------------------------------------------------------------


class TemplateOut(BaseModel):
    key: str
    channel: str
    locale: str
    subject: str | None
    body: str
    edited: bool = Field(description="changed by an admin (else kefu's default)")


class TemplateIn(Strict):
    subject: Annotated[str | None, Field(max_length=300)] = None
    body: Annotated[str, Field(min_length=1, max_length=2000, description="placeholders: {number}, {promise} …")]


@router.get("/message-templates", response_model=list[TemplateOut])
def templates(ctx: Ctx, user: CurrentUser) -> list[TemplateOut]:
    return [
        TemplateOut(key=k, channel=c, locale=loc, subject=s, body=b, edited=e)
        for k, c, loc, s, b, e in notify.list_templates(ctx, user)
    ]


@router.put("/message-templates/{key}/{channel}/{locale}", response_model=TemplateOut)
def save_template(
    key: Annotated[str, Path(max_length=50)],
    channel: Annotated[str, Path(max_length=20)],
    locale: Annotated[str, Path(max_length=10)],
    body: TemplateIn,
    ctx: Ctx,
    user: CurrentUser,
) -> TemplateOut:
    notify.save_template(ctx, user, key, channel, locale, body.subject, body.body)
    return TemplateOut(key=key, channel=channel, locale=locale, subject=body.subject, body=body.body, edited=True)
