"""/api/v1: field visits (上门) of engineers, an engineer's day, engineer suggestions for a work
order, and the work order's checklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import versioned
from kefu.api.schemas import MAX_ID, Day, Moment, Strict
from kefu.domain.checklists import ChecklistStep, template_for
from kefu.domain.visits import Visit, VisitOutcome
from kefu.services import visits

router = APIRouter(tags=["dispatch and field service"])


class VisitIn(Strict):
    engineer_id: Annotated[int, Field(gt=0, le=MAX_ID)]
    window_start: Moment
    window_end: Moment
    address: Annotated[str | None, Field(max_length=300, description="default: the customer's address")] = None
    tools: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)
    parts: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)


class VisitCompleteIn(Strict):
    diagnosis: Annotated[str | None, Field(max_length=4000)] = None
    repair_actions: Annotated[str | None, Field(max_length=4000)] = None
    function_test_passed: bool | None = Field(
        default=None, description="mandatory: the visit cannot complete without it"
    )
    function_test_note: Annotated[str | None, Field(max_length=4000)] = None
    confirmed_by: Annotated[str | None, Field(max_length=100, description="the customer who confirmed")] = None
    signature: Annotated[str | None, Field(max_length=300_000, description="data:image/png;base64,...")] = None
    site_cleaned: bool | None = None
    outcome: VisitOutcome


class CancelIn(Strict):
    reason: Annotated[str, Field(max_length=4000)]


class VisitOut(BaseModel):
    id: int
    work_order_id: int
    number: str | None = None
    engineer_id: int
    status: str
    window_start: datetime
    window_end: datetime
    address: str
    tools: list[str]
    parts: list[str]
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    diagnosis: str | None
    repair_actions: str | None
    function_test_passed: bool | None
    function_test_note: str | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    signed: bool
    site_cleaned: bool | None
    outcome: str | None
    cancel_reason: str | None
    version: int

    @classmethod
    def of(cls, v: Visit, number: str | None = None) -> VisitOut:
        values: dict[str, Any] = {k: val for k, val in v.__dict__.items() if k in cls.model_fields}
        values.update(
            id=v.id or 0,
            status=v.status.value,
            outcome=v.outcome.value if v.outcome else None,
            signed=v.signature is not None,
            number=number,
        )
        return cls(**values)


@router.post("/work-orders/{number}/visits", status_code=201, response_model=VisitOut)
def schedule_visit(
    number: str,
    body: VisitIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    visit = visits.schedule_visit(
        ctx,
        user,
        number,
        visits.NewVisit(
            engineer_id=body.engineer_id,
            window_start=body.window_start,
            window_end=body.window_end,
            address=body.address,
            tools=tuple(body.tools),
            parts=tuple(body.parts),
        ),
        expected_version=if_match_version(if_match),
    )
    return versioned(VisitOut.of(visit, number), visit.version, 201, location=f"/api/v1/visits/{visit.id}")


@router.get("/work-orders/{number}/visits", response_model=list[VisitOut])
def work_order_visits(
    number: str,
    ctx: Ctx,
    user: CurrentUser,
) -> list[VisitOut]:
    return [VisitOut.of(v, number) for v in visits.list_visits(ctx, user, number)]


@router.post("/visits/{visit_id}/check-in", response_model=VisitOut)
def check_in(
    visit_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    visit = visits.check_in(ctx, user, visit_id, expected_version=if_match_version(if_match))
    return versioned(VisitOut.of(visit), visit.version)


@router.post("/visits/{visit_id}/complete", response_model=VisitOut)
def complete(
    visit_id: Id,
    body: VisitCompleteIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Check out with diagnosis, repair, the mandatory function test and the customer's confirmation.
    Outcome `resolved` resolves the work order (returning the engineer team's dispatch first)."""
    visit = visits.complete_visit(
        ctx, user, visit_id, visits.VisitReport(**body.model_dump()), expected_version=if_match_version(if_match)
    )
    return versioned(VisitOut.of(visit), visit.version)


@router.post("/visits/{visit_id}/cancel", response_model=VisitOut)
def cancel(
    visit_id: Id,
    body: CancelIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    visit = visits.cancel_visit(ctx, user, visit_id, reason=body.reason, expected_version=if_match_version(if_match))
    return versioned(VisitOut.of(visit), visit.version)


@router.get("/engineers/{engineer_id}/visits", response_model=list[VisitOut])
def engineer_day(
    engineer_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    day: Day | None = None,
) -> list[VisitOut]:
    """An engineer's visits of one day (default today), in time order."""
    when = day or ctx.clock.now().astimezone(ctx.timezone).date()
    return [VisitOut.of(v, n) for v, n in visits.engineer_day(ctx, user, engineer_id, when)]


class SuggestionOut(BaseModel):
    engineer_id: int
    name: str
    skilled: bool
    local: bool = Field(description="works in the customer's region")
    slot_start: datetime
    slot_end: datetime
    open_assigned: int


@router.get("/work-orders/{number}/engineer-suggestions", response_model=list[SuggestionOut])
def suggest(
    number: str,
    ctx: Ctx,
    user: CurrentUser,
    duration_minutes: Annotated[int, Query(ge=15, le=720)] = 120,
) -> list[SuggestionOut]:
    found = visits.suggest_engineer(ctx, user, number, duration=timedelta(minutes=duration_minutes))
    return [
        SuggestionOut(
            engineer_id=s.engineer_id,
            name=u.display_name,
            skilled=s.skilled,
            local=s.local,
            slot_start=s.slot_start,
            slot_end=s.slot_end,
            open_assigned=s.open_assigned,
        )
        for s, u in found
    ]


class StepOut(BaseModel):
    position: int
    code: str
    fields: list[str]
    done: bool
    done_at: datetime | None
    done_by: int | None
    data: dict[str, str]

    @classmethod
    def of(cls, s: ChecklistStep, fields: list[str]) -> StepOut:
        return cls(
            position=s.position,
            code=s.code,
            fields=fields,
            done=s.done,
            done_at=s.done_at,
            done_by=s.done_by,
            data=s.data,
        )


class StepIn(Strict):
    data: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = Field(
        default={}, max_length=10
    )


def _steps(category: str, steps: list[ChecklistStep]) -> list[StepOut]:
    fields = {t.code: [f.name for f in t.fields] for t in template_for(category)}
    return [StepOut.of(s, fields.get(s.code, [])) for s in steps]


@router.get("/work-orders/{number}/checklist", response_model=list[StepOut])
def get_checklist(number: str, ctx: Ctx, user: CurrentUser) -> list[StepOut]:
    return _steps(*visits.checklist(ctx, user, number))


@router.post("/work-orders/{number}/checklist/{step}", response_model=StepOut)
def do_step(
    number: str,
    step: Annotated[str, Path(max_length=40)],
    body: StepIn,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> StepOut:
    """Mark the next checklist step done (steps go in order), with what it asks to record."""
    done = visits.complete_checklist_step(
        ctx, user, number, step, body.data, expected_version=if_match_version(if_match)
    )
    return StepOut.of(done, list(done.data))
