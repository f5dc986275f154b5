"""/api/v1/work-orders"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from kefu.api.customers import CustomerIn, new_customer_of
from kefu.api.deps import Ctx, CurrentUser, IfMatch, etag, if_match_version
from kefu.api.responses import json_response, versioned
from kefu.api.schemas import MAX_ID, Moment, Strict, WorkOrderOut
from kefu.domain.events import WorkOrderEvent
from kefu.domain.org import User
from kefu.domain.tags import clean_tag
from kefu.domain.workorders import OPEN_STATUSES, Channel, Priority, Status, WorkOrderType
from kefu.http import cursors
from kefu.services import tags
from kefu.services.context import Context
from kefu.services.ports import WORK_ORDER_SORTS, WorkOrderFilter
from kefu.services.sla.clocks import ClockView
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries

router = APIRouter(prefix="/work-orders", tags=["work orders"])


class WorkOrderIn(Strict):
    customer_id: int | None = Field(gt=0, le=MAX_ID, description="the customer; null with new_customer")
    new_customer: CustomerIn | None = Field(default=None, description="a caller not on file, registered with it")
    type: WorkOrderType
    category: Annotated[str, Field(min_length=1, max_length=100, description="a code such as broadband.no_connection")]
    channel: Channel
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(min_length=1, max_length=20_000)]
    priority: Priority | None = None
    severity: Annotated[
        int | None, Field(ge=1, le=4, description="1 (一级, critical) to 4 (四级, minor); faults only")
    ] = None
    team_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    fault_time: Moment | None = None
    fault_place: Annotated[str | None, Field(max_length=300)] = None
    device: Annotated[str | None, Field(max_length=200)] = None
    promised_at: Moment | None = Field(default=None, description="the time promised to the customer (R4)")
    call_id: Annotated[
        str | None,
        Field(
            max_length=100,
            description=("the CTI call during which it is registered: the registration clock runs from its answer"),
        ),
    ] = None
    customer_phone: Annotated[
        str | None,
        Field(
            max_length=20,
            description="the customer's whole phone number, to register for a customer of another organisation "
            "(the caller on the line); not needed with the call_id of their call",
        ),
    ] = None


class TransitionIn(Strict):
    to: Status
    note: Annotated[str | None, Field(max_length=10_000)] = None


class NoteIn(Strict):
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    customer_visible: bool = False


class ClockOut(BaseModel):
    name: str = Field(description="register, first_response, diagnosis, onsite, resolution, customer_reply, hop")
    state: Literal["not_started", "running", "warned", "paused", "met", "breached"]
    target_minutes: int
    due_at: datetime | None = Field(description="the deadline while the clock runs; null while paused or stopped")
    remaining_minutes: int = Field(description="working minutes left on the clock's calendar; negative when overdue")
    started_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None

    @classmethod
    def of(cls, v: ClockView) -> ClockOut:
        return cls(
            name=v.name.value,
            state=v.state,  # type: ignore[arg-type]
            target_minutes=v.target_minutes,
            due_at=v.due_at,
            remaining_minutes=v.remaining_minutes,
            started_at=v.started_at,
            stopped_at=v.stopped_at,
            breached_at=v.breached_at,
        )


class RatingOut(BaseModel):
    score: int = Field(description="1 to 5 stars, given by the customer through the portal (R21)")
    comment: str | None
    at: datetime


class WorkOrderDetailOut(WorkOrderOut):
    clocks: list[ClockOut]
    customer_rating: RatingOut | None = Field(default=None, description="the customer's rating, once given")


class PriorityIn(Strict):
    priority: Priority
    reason: Annotated[str | None, Field(max_length=1000)] = None


class ListedWorkOrderOut(WorkOrderOut):
    tags: list[str] = Field(default_factory=list, description="the tags it carries")


class WorkOrderPage(BaseModel):
    items: list[ListedWorkOrderOut]
    next_cursor: str | None


class Person(BaseModel):
    id: int
    username: str | None = None
    display_name: str | None = None


class EventOut(BaseModel):
    id: int | None
    kind: str
    at: datetime
    actor: Person
    from_status: str | None
    to_status: str | None
    note: str | None
    visibility: Literal["internal", "customer"] | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: WorkOrderEvent, people: dict[int, User]) -> EventOut:
        u = people.get(e.actor_id)
        actor = Person(id=e.actor_id, username=u.username, display_name=u.display_name) if u else Person(id=e.actor_id)
        return cls(
            id=e.id,
            kind=e.kind.value,
            at=e.at,
            actor=actor,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
            visibility=e.visibility,  # type: ignore[arg-type]
            data=e.data,
        )


class HistoryOut(BaseModel):
    number: str
    events: list[EventOut]


@router.post("", status_code=201, response_model=WorkOrderOut)
def create_work_order(
    body: WorkOrderIn,
    ctx: Ctx,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    new = svc.NewWorkOrder(**{**body.model_dump(exclude={"new_customer"}), "customer_id": body.customer_id or 0})
    caller = new_customer_of(body.new_customer) if body.new_customer else None
    work_order, created = svc.register_work_order(ctx, user, new, idempotency_key=idempotency_key, new_customer=caller)
    headers = {"Location": f"/api/v1/work-orders/{work_order.number}", **etag(work_order.version)}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return json_response(WorkOrderOut.of(work_order), 201, headers)


#: What the list may be sorted by (services.ports.WORK_ORDER_SORTS), "-" first for descending.
SORT_PATTERN = r"^-?(" + "|".join(WORK_ORDER_SORTS) + r")$"


class ListQuery:
    """The filters of the work-order list, shared by the list and the export."""

    def __init__(
        self,
        status: Annotated[list[Status] | None, Query(description="repeat for several")] = None,
        open: Annotated[bool, Query(description="only work orders that still need work")] = False,
        priority: Annotated[list[Priority] | None, Query()] = None,
        type: Annotated[list[WorkOrderType] | None, Query()] = None,
        category: Annotated[
            str | None, Query(max_length=100, description="a category code; includes its subtree")
        ] = None,
        owner: Annotated[int | None, Query(gt=0, le=MAX_ID, description="first-ask owner's user id")] = None,
        handler: Annotated[int | None, Query(gt=0, le=MAX_ID, description="who handles it now")] = None,
        unassigned: Annotated[bool, Query(description="only work orders nobody handles yet")] = False,
        team: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
        dispatched_to_team: Annotated[
            int | None,
            Query(
                gt=0, le=MAX_ID, description=("only work orders with a hop to this team still waiting for its answer")
            ),
        ] = None,
        customer: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
        created_from: Moment | None = None,
        created_to: Moment | None = None,
        breach_within: Annotated[
            int | None,
            Query(
                ge=0,
                le=60 * 24 * 30,
                description=(
                    "only work orders with a running clock due within this many minutes (overdue ones included)"
                ),
            ),
        ] = None,
        tag: Annotated[str | None, Query(max_length=40, description="only work orders with this tag")] = None,
        sort: Annotated[
            str | None,
            Query(
                pattern=SORT_PATTERN,
                description="sort by number, title, category, type, priority, status, created or due "
                "(the earliest running deadline); a leading '-' sorts descending; ties by id. "
                "Default: newest first",
            ),
        ] = None,
        cursor: str | None = None,
    ) -> None:
        statuses = {s.value for s in status or []}
        key = (sort or "").removeprefix("-")
        if open:
            statuses = {s.value for s in OPEN_STATUSES} & statuses if statuses else {s.value for s in OPEN_STATUSES}
        self.filter = WorkOrderFilter(
            statuses=tuple(sorted(statuses)),
            priorities=tuple(p.value for p in priority or []),
            types=tuple(t.value for t in type or []),
            category=category,
            owner_id=owner,
            handler_id=handler,
            unassigned=unassigned,
            team_id=team,
            dispatched_to_team=dispatched_to_team,
            customer_id=customer,
            created_from=created_from,
            created_to=created_to,
            before_id=None if key else cursors.decode(cursor),
            tag=clean_tag(tag, "tag") if tag is not None else None,
            sort=key,
            descending=(sort or "").startswith("-"),
            after=cursors.decode_after(cursor, key, moment=key in ("created", "due")) if key else None,
        )
        self.breach_within = breach_within

    def with_clock(self, ctx: Context) -> WorkOrderFilter:
        if self.breach_within is None:
            return self.filter
        return replace(self.filter, due_before=ctx.clock.now() + timedelta(minutes=self.breach_within))


@router.get("", response_model=WorkOrderPage)
def list_work_orders(
    query: Annotated[ListQuery, Depends()],
    ctx: Ctx,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
) -> Response:
    flt = query.with_clock(ctx)
    found = queries.list_work_orders(ctx, user, flt, limit=limit)
    tagged = tags.tags_of(ctx, user, found)
    next_cursor = None
    if found and len(found) == limit and (last := found[-1]).id is not None:
        next_cursor = (
            cursors.encode_after(flt.sort, queries.sort_value(last, flt.sort), last.id)
            if flt.sort
            else cursors.encode(last.id)
        )
    return json_response(
        WorkOrderPage(
            items=[
                ListedWorkOrderOut(**WorkOrderOut.of(w).model_dump(), tags=tagged.get(w.id or 0, [])) for w in found
            ],
            next_cursor=next_cursor,
        )
    )


EXPORT_COLUMNS = (
    "number",
    "status",
    "type",
    "category",
    "channel",
    "priority",
    "severity",
    "title",
    "customer_id",
    "owner_id",
    "handler_id",
    "team_id",
    "organisation_id",
    "created_at",
    "promised_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "fault_place",
)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM (opens in Excel)"}},
)
def export_work_orders(
    query: Annotated[ListQuery, Depends()],
    ctx: Ctx,
    user: CurrentUser,
    max_rows: Annotated[int, Query(ge=1, le=queries.MAX_EXPORT)] = 10_000,
) -> StreamingResponse:
    """The filtered list as CSV, newest first, within the caller's data scope."""
    # The first page is read here, so that errors (permission, filters) come before the response starts.
    pages = queries.export_work_orders(ctx, user, query.with_clock(ctx), max_rows=max_rows)

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(EXPORT_COLUMNS)
        for page in pages:
            for w in page:
                writer.writerow([_cell(getattr(w, c)) for c in EXPORT_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="work-orders.csv"'},
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.value if hasattr(value, "value") else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@router.get("/{number}", response_model=WorkOrderDetailOut)
def get_work_order(number: str, ctx: Ctx, user: CurrentUser) -> Response:
    work_order, clocks = queries.get_work_order(ctx, user, number)
    rating = queries.customer_rating(ctx, user, number)
    body = WorkOrderDetailOut(
        **WorkOrderOut.of(work_order).model_dump(),
        clocks=[ClockOut.of(c) for c in clocks],
        customer_rating=RatingOut(score=rating.score, comment=rating.comment, at=rating.at) if rating else None,
    )
    return versioned(body, work_order.version)


@router.post("/{number}/priority", response_model=WorkOrderOut)
def change_priority(
    number: str,
    body: PriorityIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Raise or lower the priority; deadlines move with the SLA policy that then applies."""
    work_order = svc.change_priority(
        ctx, user, number, body.priority, reason=body.reason, expected_version=if_match_version(if_match)
    )
    return versioned(WorkOrderOut.of(work_order), work_order.version)


@router.post("/{number}/transitions", response_model=WorkOrderOut)
def transition(
    number: str,
    body: TransitionIn,
    response: Response,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    work_order = svc.transition_work_order(
        ctx, user, number, body.to, note=body.note, expected_version=if_match_version(if_match)
    )
    response.headers.update(etag(work_order.version))
    return WorkOrderOut.of(work_order)


@router.post("/{number}/notes", status_code=201, response_model=EventOut)
def add_note(
    number: str,
    body: NoteIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> EventOut:
    event = svc.add_note(
        ctx,
        user,
        number,
        body.body,
        customer_visible=body.customer_visible,
        expected_version=if_match_version(if_match),
    )
    return EventOut.of(event, {user.id or 0: user})


class LinkIn(Strict):
    other: Annotated[str, Field(min_length=1, max_length=16, description="the other work order's number")]
    merge: bool = Field(default=False, description="the other is a duplicate: cancel it, pointing here")


@router.post("/{number}/links", response_model=WorkOrderOut)
def link(
    number: str,
    body: LinkIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Relate two work orders (both timelines say so), or merge a duplicate into this one."""
    wo = svc.link_work_orders(
        ctx, user, number, body.other, merge=body.merge, expected_version=if_match_version(if_match)
    )
    return versioned(WorkOrderOut.of(wo), wo.version)


@router.get("/{number}/history", response_model=HistoryOut)
def history(number: str, ctx: Ctx, user: CurrentUser) -> Response:
    events, people = queries.work_order_history(ctx, user, number)
    return json_response(HistoryOut(number=number, events=[EventOut.of(e, people) for e in events]))
