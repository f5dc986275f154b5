"""/api/v1/macros and /api/v1/work-orders/{number}/macro: keep macros, apply one to a work order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import versioned
from kefu.api.schemas import MAX_ID, Strict, WorkOrderOut
from kefu.domain.macros import MAX_NAME, MAX_TAGS, Macro
from kefu.domain.workorders import Priority, Status
from kefu.services import macros

router = APIRouter(tags=["macros"])

Tag = Annotated[str, Field(min_length=1, max_length=40)]


class MacroIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    organisation_id: Annotated[int, Field(gt=0, le=MAX_ID, description="kept by (and offered below) it")]
    active: bool = True
    reply_template: Annotated[str | None, Field(min_length=1, max_length=100, description="a canned reply")] = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    priority: Priority | None = None
    team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    status: Status | None = Field(default=None, description="moved there last (never `dispatched`)")
    note: Annotated[str | None, Field(max_length=2_000, description="an internal note")] = None

    def domain(self, macro_id: int | None = None) -> Macro:
        return Macro(
            id=macro_id,
            organisation_id=self.organisation_id,
            name=self.name,
            active=self.active,
            reply_template=self.reply_template,
            tags=tuple(self.tags),
            priority=self.priority,
            team_id=self.team_id,
            status=self.status,
            note=self.note,
        )


class MacroOut(BaseModel):
    id: int
    name: str
    organisation_id: int
    active: bool
    reply_template: str | None
    tags: list[str]
    priority: Priority | None
    team_id: int | None
    status: Status | None
    note: str | None
    actions: list[str] = Field(description="what it does, in the order it does it")
    may_change: bool = Field(description="whether the caller may change it")

    @classmethod
    def of(cls, m: Macro, may_change: bool) -> MacroOut:
        assert m.id is not None
        return cls(
            id=m.id,
            name=m.name,
            organisation_id=m.organisation_id,
            active=m.active,
            reply_template=m.reply_template,
            tags=list(m.tags),
            priority=m.priority,
            team_id=m.team_id,
            status=m.status,
            note=m.note,
            actions=list(m.actions),
            may_change=may_change,
        )


class ApplyIn(Strict):
    macro_id: Annotated[int, Field(gt=0, le=MAX_ID)]


@router.get("/macros", response_model=list[MacroOut])
def list_macros(ctx: Ctx, user: CurrentUser, usable: bool = False) -> list[MacroOut]:
    """The macros the caller may apply (`usable=true`: only those, switched on), and those they keep."""
    return [MacroOut.of(m, may) for m, may in macros.list_macros(ctx, user, usable_only=usable)]


@router.post("/macros", status_code=201, response_model=MacroOut)
def create_macro(body: MacroIn, ctx: Ctx, user: CurrentUser) -> MacroOut:
    return MacroOut.of(macros.save_macro(ctx, user, body.domain()), True)


@router.put("/macros/{macro_id}", response_model=MacroOut)
def replace_macro(macro_id: Id, body: MacroIn, ctx: Ctx, user: CurrentUser) -> MacroOut:
    return MacroOut.of(macros.save_macro(ctx, user, body.domain(macro_id)), True)


@router.post("/work-orders/{number}/macro", response_model=WorkOrderOut)
def apply_macro(number: str, body: ApplyIn, ctx: Ctx, user: CurrentUser, if_match: IfMatch = None) -> Response:
    """Apply a macro: its canned reply, tags, priority, team, note and move, all or none."""
    work_order = macros.apply_macro(ctx, user, number, body.macro_id, expected_version=if_match_version(if_match))
    return versioned(WorkOrderOut.of(work_order), work_order.version)
