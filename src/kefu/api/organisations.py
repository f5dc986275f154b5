"""/api/v1: organisations, their teams, and the agents' dispatch profiles (team, region, skills,
languages, capacity, shift)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.schemas import MAX_ID, Strict
from kefu.domain.org import Organisation, OrganisationKind, Team, TeamFunction, User
from kefu.services.org import admin as org_admin

router = APIRouter(tags=["dispatch and field service"])


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
def organisations(ctx: Ctx, user: CurrentUser) -> list[OrganisationIO]:
    return [OrganisationIO.of(o) for o in org_admin.list_organisations(ctx, user)]


@router.post("/organisations", status_code=201, response_model=OrganisationIO)
def create_organisation(
    body: OrganisationIO,
    ctx: Ctx,
    user: CurrentUser,
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
def create_team(body: TeamIn, ctx: Ctx, user: CurrentUser) -> TeamOut:
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
    ctx: Ctx,
    user: CurrentUser,
    team_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
) -> list[AgentOut]:
    return [AgentOut.of(u) for u in org_admin.list_agents(ctx, user, team_id=team_id)]


@router.patch("/agents/{user_id}", response_model=AgentOut)
def update_agent(
    user_id: Id,
    body: AgentIn,
    ctx: Ctx,
    user: CurrentUser,
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
