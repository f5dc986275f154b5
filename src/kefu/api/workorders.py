"""/api/v1/work-orders"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import AwareDatetime

from kefu.api import cursors
from kefu.api.deps import context, current_user
from kefu.api.responses import json_response
from kefu.api.schemas import (
    MAX_ID,
    ClockOut,
    EventOut,
    HistoryOut,
    NoteIn,
    PriorityIn,
    TransitionIn,
    WorkOrderDetailOut,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPage,
)
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import User
from kefu.domain.workorders import OPEN_STATUSES, Priority, Status, WorkOrder, WorkOrderType
from kefu.services import workorders as svc
from kefu.services.ports import Context, WorkOrderFilter

router = APIRouter(prefix="/work-orders", tags=["work orders"])


def _etag(work_order: WorkOrder) -> str:
    return f'"{work_order.version}"'


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ValidationFailed(
            "If-Match must be the ETag of the work order you read, e.g. \"3\".", field="If-Match"
        )
    return int(raw)


@router.post("", status_code=201, response_model=WorkOrderOut)
def create_work_order(
    body: WorkOrderIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    work_order, created = svc.register_work_order(
        ctx, user, svc.NewWorkOrder(**body.model_dump()), idempotency_key=idempotency_key
    )
    headers = {"Location": f"/api/v1/work-orders/{work_order.number}", "ETag": _etag(work_order)}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return json_response(WorkOrderOut.of(work_order), 201, headers)


@router.get("", response_model=WorkOrderPage)
def list_work_orders(
    status: Annotated[list[Status] | None, Query(description="repeat for several")] = None,
    open: Annotated[bool, Query(description="only work orders that still need work")] = False,
    priority: Annotated[list[Priority] | None, Query()] = None,
    type: Annotated[list[WorkOrderType] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=100, description="a category code; includes its subtree")] = None,
    owner: Annotated[int | None, Query(gt=0, le=MAX_ID, description="first-ask owner's user id")] = None,
    team: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    customer: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    created_from: AwareDatetime | None = None,
    created_to: AwareDatetime | None = None,
    breach_within: Annotated[int | None, Query(ge=0, le=60 * 24 * 30, description=(
        "only work orders with a running clock due within this many minutes (overdue ones included)"))] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=svc.MAX_PAGE)] = 50,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    statuses = {s.value for s in status or []}
    if open:
        statuses = {s.value for s in OPEN_STATUSES} & statuses if statuses else {s.value for s in OPEN_STATUSES}
    flt = WorkOrderFilter(
        statuses=tuple(sorted(statuses)),
        priorities=tuple(p.value for p in priority or []),
        types=tuple(t.value for t in type or []),
        category=category,
        owner_id=owner,
        team_id=team,
        customer_id=customer,
        created_from=created_from,
        created_to=created_to,
        before_id=cursors.decode(cursor),
        due_before=ctx.clock.now() + timedelta(minutes=breach_within) if breach_within is not None else None,
    )
    found = svc.list_work_orders(ctx, user, flt, limit=limit)
    last = found[-1].id if found else None
    return json_response(WorkOrderPage(
        items=[WorkOrderOut.of(w) for w in found],
        next_cursor=cursors.encode(last) if last is not None and len(found) == limit else None,
    ))


@router.get("/{number}", response_model=WorkOrderDetailOut)
def get_work_order(number: str, ctx: Context = Depends(context), user: User = Depends(current_user)) -> Response:
    work_order, clocks = svc.get_work_order(ctx, user, number)
    body = WorkOrderDetailOut(**WorkOrderOut.of(work_order).model_dump(), clocks=[ClockOut.of(c) for c in clocks])
    return json_response(body, headers={"ETag": _etag(work_order)})


@router.post("/{number}/priority", response_model=WorkOrderOut)
def change_priority(
    number: str,
    body: PriorityIn,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """Raise or lower the priority; deadlines move with the SLA policy that then applies."""
    work_order = svc.change_priority(ctx, user, number, body.priority, reason=body.reason,
                                     expected_version=_if_match(if_match))
    return json_response(WorkOrderOut.of(work_order), headers={"ETag": _etag(work_order)})


@router.post("/{number}/transitions", response_model=WorkOrderOut)
def transition(
    number: str,
    body: TransitionIn,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> WorkOrderOut:
    work_order = svc.transition_work_order(
        ctx, user, number, body.to, note=body.note, expected_version=_if_match(if_match)
    )
    response.headers["ETag"] = _etag(work_order)
    return WorkOrderOut.of(work_order)


@router.post("/{number}/notes", status_code=201, response_model=EventOut)
def add_note(
    number: str,
    body: NoteIn,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> EventOut:
    event = svc.add_note(
        ctx, user, number, body.body, customer_visible=body.customer_visible, expected_version=_if_match(if_match)
    )
    return EventOut.of(event, {user.id or 0: user})


@router.get("/{number}/history", response_model=HistoryOut)
def history(number: str, ctx: Context = Depends(context), user: User = Depends(current_user)) -> Response:
    events, people = svc.work_order_history(ctx, user, number)
    return json_response(HistoryOut(number=number, events=[EventOut.of(e, people) for e in events]))

