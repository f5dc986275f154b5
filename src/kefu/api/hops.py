"""/api/v1: dispatch hops (派单) of work orders along the chain of organisations, their answers
(accept, reject as out of scope, return with the result), and a team's queue of waiting hops."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import json_response, versioned
from kefu.api.schemas import MAX_ID, Strict, WorkOrderOut
from kefu.domain.dispatch import Dispatch
from kefu.services.dispatch import hops
from kefu.services.ports import NumberedHop

router = APIRouter(tags=["dispatch and field service"])


class DispatchIn(Strict):
    to_team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    to_organisation_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    instruction: Annotated[str, Field(max_length=4000, description="what the receiver should check or do")]


class RejectIn(Strict):
    reason: Annotated[str, Field(max_length=4000, description="why this is not in your scope")]


class ReturnIn(Strict):
    result: Annotated[str, Field(max_length=4000, description="what was found and done; what to tell the customer")]


class DispatchOut(BaseModel):
    id: int
    work_order_id: int
    parent_id: int | None = Field(description="the hop this one passes on (a chain: vendor -> base -> home province)")
    sender_user_id: int
    sender_org_id: int
    sender_team_id: int | None
    receiver_org_id: int
    receiver_team_id: int | None
    instruction: str
    status: str = Field(description="pending, accepted, rejected (out of scope) or returned (with result)")
    created_at: datetime
    deadline_at: datetime | None
    overdue: bool
    accepted_at: datetime | None
    accepted_by: int | None
    answered_at: datetime | None
    answered_by: int | None
    answer: str | None = Field(description="the rejection's reason or the returned result")
    version: int

    @classmethod
    def of(cls, d: Dispatch, now: datetime) -> DispatchOut:
        values = {k: v for k, v in d.__dict__.items() if k in cls.model_fields}
        return cls(**{**values, "id": d.id or 0, "status": d.status.value, "overdue": d.overdue(now)})


class QueuedDispatchOut(DispatchOut):
    number: str


@router.post("/work-orders/{number}/dispatches", status_code=201, response_model=DispatchOut)
def dispatch(
    number: str,
    body: DispatchIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Dispatch (派单) to a team or an organisation. From the owning party the work order becomes
    `dispatched`; from a receiver holding an accepted hop, it is passed on along the chain."""
    hop = hops.dispatch_work_order(
        ctx,
        user,
        number,
        instruction=body.instruction,
        to_team_id=body.to_team_id,
        to_organisation_id=body.to_organisation_id,
        expected_version=if_match_version(if_match),
    )
    return versioned(DispatchOut.of(hop, ctx.clock.now()), hop.version, 201, location=f"/api/v1/dispatches/{hop.id}")


@router.get("/work-orders/{number}/dispatches", response_model=list[DispatchOut])
def dispatches(number: str, ctx: Ctx, user: CurrentUser) -> list[DispatchOut]:
    now = ctx.clock.now()
    return [DispatchOut.of(d, now) for d in hops.list_dispatches(ctx, user, number)]


@router.post("/dispatches/{dispatch_id}/accept", response_model=DispatchOut)
def accept(
    dispatch_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    hop = hops.accept_dispatch(ctx, user, dispatch_id, expected_version=if_match_version(if_match))
    return versioned(DispatchOut.of(hop, ctx.clock.now()), hop.version)


@router.post("/dispatches/{dispatch_id}/reject", response_model=DispatchOut)
def reject(
    dispatch_id: Id,
    body: RejectIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Out of scope: the hop goes back to its sender with the reason."""
    hop = hops.reject_dispatch(ctx, user, dispatch_id, reason=body.reason, expected_version=if_match_version(if_match))
    return versioned(DispatchOut.of(hop, ctx.clock.now()), hop.version)


@router.post("/dispatches/{dispatch_id}/return", response_model=DispatchOut)
def return_(
    dispatch_id: Id,
    body: ReturnIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Answer with the result (回单); it goes back to the sender."""
    hop = hops.return_dispatch(ctx, user, dispatch_id, result=body.result, expected_version=if_match_version(if_match))
    return versioned(DispatchOut.of(hop, ctx.clock.now()), hop.version)


class TeamQueueOut(BaseModel):
    team_id: int
    team: str
    waiting: list[QueuedDispatchOut] = Field(
        description="hops to this team waiting for an answer, earliest deadline first"
    )
    organisation_waiting: list[QueuedDispatchOut] = Field(description="hops to the team's organisation, no team named")
    unassigned: list[WorkOrderOut] = Field(description="open work orders of the team that nobody handles yet")


@router.get("/teams/{team_id}/queue", response_model=TeamQueueOut)
def team_queue(
    team_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Response:
    q = hops.team_queue(ctx, user, team_id, limit=limit)
    now = ctx.clock.now()

    def queued(items: list[NumberedHop]) -> list[QueuedDispatchOut]:
        return [QueuedDispatchOut(**DispatchOut.of(d, now).model_dump(), number=n) for d, n in items]

    return json_response(
        TeamQueueOut(
            team_id=team_id,
            team=q.team.name,
            waiting=queued(q.waiting),
            organisation_waiting=queued(q.organisation_waiting),
            unassigned=[WorkOrderOut.of(w) for w in q.unassigned],
        )
    )
