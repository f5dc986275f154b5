"""/api/v1: dispatch hops, field visits, checklists, routing rules, organisations, teams, agents
and the team queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from kefu.api.deps import context, current_user
from kefu.api.responses import json_response
from kefu.api.schemas import MAX_ID, Strict, WorkOrderOut
from kefu.api.sla import ConditionsIO
from kefu.api.workorders import etag, if_match_version
from kefu.domain.checklists import ChecklistStep, template_for
from kefu.domain.dispatch import Dispatch
from kefu.domain.org import Organisation, OrganisationKind, Team, TeamFunction, User
from kefu.domain.routing import Decision, RoutingRule, Strategy
from kefu.domain.visits import Visit, VisitOutcome
from kefu.services import visits
from kefu.services.context import Context
from kefu.services.dispatch import hops, routing
from kefu.services.org import admin as org_admin

router = APIRouter(tags=["dispatch and field service"])

Id = Annotated[int, Path(gt=0, le=MAX_ID)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the ETag you read, to refuse a stale change")]


def _tag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


# --- hops ----------------------------------------------------------------------------------------


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
        overdue = d.is_active and d.deadline_at is not None and d.deadline_at < now
        return cls(**{**values, "id": d.id or 0, "status": d.status.value, "overdue": overdue})


class QueuedDispatchOut(DispatchOut):
    number: str


@router.post("/work-orders/{number}/dispatches", status_code=201, response_model=DispatchOut)
def dispatch(
    number: str,
    body: DispatchIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
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
    return json_response(
        DispatchOut.of(hop, ctx.clock.now()), 201, {"Location": f"/api/v1/dispatches/{hop.id}", **_tag(hop.version)}
    )


@router.get("/work-orders/{number}/dispatches", response_model=list[DispatchOut])
def dispatches(number: str, ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[DispatchOut]:
    now = ctx.clock.now()
    return [DispatchOut.of(d, now) for d in hops.list_dispatches(ctx, user, number)]


@router.post("/dispatches/{dispatch_id}/accept", response_model=DispatchOut)
def accept(
    dispatch_id: Id, if_match: IfMatch = None, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> Response:
    hop = hops.accept_dispatch(ctx, user, dispatch_id, expected_version=if_match_version(if_match))
    return json_response(DispatchOut.of(hop, ctx.clock.now()), headers=_tag(hop.version))


@router.post("/dispatches/{dispatch_id}/reject", response_model=DispatchOut)
def reject(
    dispatch_id: Id,
    body: RejectIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """Out of scope: the hop goes back to its sender with the reason."""
    hop = hops.reject_dispatch(ctx, user, dispatch_id, reason=body.reason, expected_version=if_match_version(if_match))
    return json_response(DispatchOut.of(hop, ctx.clock.now()), headers=_tag(hop.version))


@router.post("/dispatches/{dispatch_id}/return", response_model=DispatchOut)
def return_(
    dispatch_id: Id,
    body: ReturnIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """Answer with the result (回单); it goes back to the sender."""
    hop = hops.return_dispatch(ctx, user, dispatch_id, result=body.result, expected_version=if_match_version(if_match))
    return json_response(DispatchOut.of(hop, ctx.clock.now()), headers=_tag(hop.version))


# --- assignment and the team queue ---------------------------------------------------------------


class AssignIn(Strict):
    team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    handler_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    reason: Annotated[str | None, Field(max_length=1000)] = None


class RoutedOut(BaseModel):
    rule_id: int | None
    rule: str | None
    strategy: str | None
    team_id: int | None
    handler_id: int | None
    reason: str = Field(description="rule, fallback, queued (nobody free: waits in the team queue) or no_rule")

    @classmethod
    def of(cls, d: Decision) -> RoutedOut:
        return cls.model_validate(d.as_data())


@router.post("/work-orders/{number}/assignment", response_model=WorkOrderOut)
def assign(
    number: str,
    body: AssignIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """Give the work order to a team and/or a person (never one off shift or at capacity)."""
    wo = routing.assign_work_order(
        ctx,
        user,
        number,
        team_id=body.team_id,
        handler_id=body.handler_id,
        reason=body.reason,
        expected_version=if_match_version(if_match),
    )
    return json_response(WorkOrderOut.of(wo), headers={"ETag": etag(wo)})


@router.post("/work-orders/{number}/route", response_model=RoutedOut)
def route(
    number: str, if_match: IfMatch = None, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> RoutedOut:
    """Run the routing rules again; the decision is recorded with the rule that made it."""
    return RoutedOut.of(routing.route_again(ctx, user, number, expected_version=if_match_version(if_match)))


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
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    q = hops.team_queue(ctx, user, team_id, limit=limit)
    now = ctx.clock.now()

    def queued(items: list[tuple[Dispatch, str]]) -> list[QueuedDispatchOut]:
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


# --- field visits --------------------------------------------------------------------------------


class VisitIn(Strict):
    engineer_id: Annotated[int, Field(gt=0, le=MAX_ID)]
    window_start: AwareDatetime
    window_end: AwareDatetime
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
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
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
    return json_response(
        VisitOut.of(visit, number), 201, {"Location": f"/api/v1/visits/{visit.id}", **_tag(visit.version)}
    )


@router.get("/work-orders/{number}/visits", response_model=list[VisitOut])
def work_order_visits(
    number: str, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> list[VisitOut]:
    return [VisitOut.of(v, number) for v in visits.list_visits(ctx, user, number)]


@router.post("/visits/{visit_id}/check-in", response_model=VisitOut)
def check_in(
    visit_id: Id, if_match: IfMatch = None, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> Response:
    visit = visits.check_in(ctx, user, visit_id, expected_version=if_match_version(if_match))
    return json_response(VisitOut.of(visit), headers=_tag(visit.version))


@router.post("/visits/{visit_id}/complete", response_model=VisitOut)
def complete(
    visit_id: Id,
    body: VisitCompleteIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    """Check out with diagnosis, repair, the mandatory function test and the customer's confirmation.
    Outcome `resolved` resolves the work order (returning the engineer team's dispatch first)."""
    visit = visits.complete_visit(
        ctx, user, visit_id, visits.VisitReport(**body.model_dump()), expected_version=if_match_version(if_match)
    )
    return json_response(VisitOut.of(visit), headers=_tag(visit.version))


@router.post("/visits/{visit_id}/cancel", response_model=VisitOut)
def cancel(
    visit_id: Id,
    body: CancelIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> Response:
    visit = visits.cancel_visit(ctx, user, visit_id, reason=body.reason, expected_version=if_match_version(if_match))
    return json_response(VisitOut.of(visit), headers=_tag(visit.version))


@router.get("/engineers/{engineer_id}/visits", response_model=list[VisitOut])
def engineer_day(
    engineer_id: Id, day: date | None = None, ctx: Context = Depends(context), user: User = Depends(current_user)
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
    duration_minutes: Annotated[int, Query(ge=15, le=720)] = 120,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
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


# --- checklists ----------------------------------------------------------------------------------


class StepOut(BaseModel):
    position: int
    code: str
    fields: list[str]
    done: bool
    done_at: datetime | None
    done_by: int | None
    data: dict[str, str]


class StepIn(Strict):
    data: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = Field(
        default={}, max_length=10
    )


def _steps(category: str, steps: list[ChecklistStep]) -> list[StepOut]:
    fields = {t.code: [f.name for f in t.fields] for t in template_for(category)}
    return [
        StepOut(
            position=s.position,
            code=s.code,
            fields=fields.get(s.code, []),
            done=s.done,
            done_at=s.done_at,
            done_by=s.done_by,
            data=s.data,
        )
        for s in steps
    ]


@router.get("/work-orders/{number}/checklist", response_model=list[StepOut])
def get_checklist(number: str, ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[StepOut]:
    return _steps(*visits.checklist(ctx, user, number))


@router.post("/work-orders/{number}/checklist/{step}", response_model=StepOut)
def do_step(
    number: str,
    step: Annotated[str, Path(max_length=40)],
    body: StepIn,
    if_match: IfMatch = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> StepOut:
    """Mark the next checklist step done (steps go in order), with what it asks to record."""
    done = visits.complete_checklist_step(
        ctx, user, number, step, body.data, expected_version=if_match_version(if_match)
    )
    return StepOut(
        position=done.position,
        code=done.code,
        fields=list(done.data),
        done=done.done,
        done_at=done.done_at,
        done_by=done.done_by,
        data=done.data,
    )


# --- routing rules, organisations, teams, agents -------------------------------------------------


class RuleIO(Strict):
    id: int | None = Field(default=None, description="set by kefu")
    name: Annotated[str, Field(min_length=1, max_length=200)]
    position: Annotated[int, Field(ge=0, le=1_000_000, description="rules are tried in this order")]
    active: bool = True
    conditions: ConditionsIO = ConditionsIO()
    team_id: Annotated[int, Field(gt=0, le=MAX_ID)]
    strategy: Strategy = Strategy.LEAST_LOADED
    fallback_team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None

    def domain(self, rule_id: int | None = None) -> RoutingRule:
        return RoutingRule(
            id=rule_id,
            name=self.name,
            position=self.position,
            team_id=self.team_id,
            strategy=self.strategy,
            conditions=self.conditions.domain(),
            fallback_team_id=self.fallback_team_id,
            active=self.active,
        )

    @classmethod
    def of(cls, r: RoutingRule) -> RuleIO:
        return cls(
            id=r.id,
            name=r.name,
            position=r.position,
            active=r.active,
            conditions=ConditionsIO.of(r.conditions),
            team_id=r.team_id,
            strategy=r.strategy,
            fallback_team_id=r.fallback_team_id,
        )


@router.get("/routing-rules", response_model=list[RuleIO])
def list_rules(ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[RuleIO]:
    return [RuleIO.of(r) for r in routing.list_rules(ctx, user)]


@router.post("/routing-rules", status_code=201, response_model=RuleIO)
def create_rule(body: RuleIO, ctx: Context = Depends(context), user: User = Depends(current_user)) -> RuleIO:
    return RuleIO.of(routing.save_rule(ctx, user, body.domain()))


@router.put("/routing-rules/{rule_id}", response_model=RuleIO)
def replace_rule(
    rule_id: Id, body: RuleIO, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> RuleIO:
    return RuleIO.of(routing.save_rule(ctx, user, body.domain(rule_id)))


class OrganisationIO(Strict):
    id: int | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: OrganisationKind
    parent_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    region: Annotated[str | None, Field(max_length=100)] = None

    @classmethod
    def of(cls, o: Organisation) -> OrganisationIO:
        return cls(id=o.id, name=o.name, kind=o.kind, parent_id=o.parent_id, region=o.region)


@router.get("/organisations", response_model=list[OrganisationIO])
def organisations(ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[OrganisationIO]:
    return [OrganisationIO.of(o) for o in org_admin.list_organisations(ctx, user)]


@router.post("/organisations", status_code=201, response_model=OrganisationIO)
def create_organisation(
    body: OrganisationIO, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> OrganisationIO:
    return OrganisationIO.of(
        org_admin.add_organisation(
            ctx, user, name=body.name, kind=body.kind, parent_id=body.parent_id, region=body.region
        )
    )


class TeamIn(Strict):
    organisation_id: Annotated[int, Field(gt=0, le=MAX_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    function: TeamFunction


class TeamOut(BaseModel):
    id: int
    organisation_id: int
    name: str
    function: str

    @classmethod
    def of(cls, t: Team) -> TeamOut:
        return cls(id=t.id or 0, organisation_id=t.organisation_id, name=t.name, function=t.function.value)


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(body: TeamIn, ctx: Context = Depends(context), user: User = Depends(current_user)) -> TeamOut:
    return TeamOut.of(
        org_admin.add_team(ctx, user, organisation_id=body.organisation_id, name=body.name, function=body.function)
    )


class AgentIn(Strict):
    team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    skills: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=100, description="category codes (subtrees)"
    )
    languages: list[Annotated[str, Field(max_length=10)]] | None = Field(default=None, max_length=20)
    capacity: Annotated[int | None, Field(ge=0, le=10_000)] = None
    on_shift: bool | None = None


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    team_id: int | None
    region: str | None
    skills: list[str]
    languages: list[str]
    capacity: int
    on_shift: bool
    open_assigned: int = Field(description="open work orders handled now")

    @classmethod
    def of(cls, u: User) -> AgentOut:
        return cls(
            id=u.id or 0,
            username=u.username,
            display_name=u.display_name,
            role=u.role.value,
            organisation_id=u.organisation_id,
            team_id=u.team_id,
            region=u.region,
            skills=u.skills,
            languages=u.languages,
            capacity=u.capacity,
            on_shift=u.on_shift,
            open_assigned=u.open_assigned,
        )


@router.get("/agents", response_model=list[AgentOut])
def agents(
    team_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> list[AgentOut]:
    return [AgentOut.of(u) for u in org_admin.list_agents(ctx, user, team_id=team_id)]


@router.patch("/agents/{user_id}", response_model=AgentOut)
def update_agent(
    user_id: Id, body: AgentIn, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> AgentOut:
    """Team, region, skills, languages, capacity and shift. Agents may set their own shift."""
    profile = org_admin.AgentProfile(
        team_id=body.team_id,
        region=body.region,
        skills=tuple(body.skills) if body.skills is not None else None,
        languages=tuple(body.languages) if body.languages is not None else None,
        capacity=body.capacity,
        on_shift=body.on_shift,
    )
    return AgentOut.of(org_admin.update_agent(ctx, user, user_id, profile))
