"""/api/v1: assignment of a work order to a team or a person, the routing rules that choose them,
and routing a work order again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import versioned
from kefu.api.schemas import MAX_ID, ConditionsIO, Strict, WorkOrderOut
from kefu.domain.routing import Decision, RoutingRule, Strategy
from kefu.services.dispatch import routing

router = APIRouter(tags=["dispatch and field service"])


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
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
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
    return versioned(WorkOrderOut.of(wo), wo.version)


@router.post("/work-orders/{number}/route", response_model=RoutedOut)
def route(
    number: str,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> RoutedOut:
    """Run the routing rules again; the decision is recorded with the rule that made it."""
    return RoutedOut.of(routing.route_again(ctx, user, number, expected_version=if_match_version(if_match)))


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
def list_rules(ctx: Ctx, user: CurrentUser) -> list[RuleIO]:
    return [RuleIO.of(r) for r in routing.list_rules(ctx, user)]


@router.post("/routing-rules", status_code=201, response_model=RuleIO)
def create_rule(body: RuleIO, ctx: Ctx, user: CurrentUser) -> RuleIO:
    return RuleIO.of(routing.save_rule(ctx, user, body.domain()))


@router.put("/routing-rules/{rule_id}", response_model=RuleIO)
def replace_rule(
    rule_id: Id,
    body: RuleIO,
    ctx: Ctx,
    user: CurrentUser,
) -> RuleIO:
    return RuleIO.of(routing.save_rule(ctx, user, body.domain(rule_id)))
