"""Reference data and the caller: categories, teams, me."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.api.deps import Ctx, CurrentUser
from kefu.services.org import reference

router = APIRouter(tags=["reference"])


class CategoryOut(BaseModel):
    code: str
    parent: str | None
    label_zh: str
    label_en: str
    active: bool


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None


@router.get("/categories", response_model=list[CategoryOut])
def categories(ctx: Ctx, user: CurrentUser) -> list[CategoryOut]:
    return [
        CategoryOut(code=c.code, parent=c.parent_code, label_zh=c.label_zh, label_en=c.label_en, active=c.active)
        for c in reference.list_categories(ctx, user)
    ]


@router.get("/teams")
def teams(ctx: Ctx, user: CurrentUser) -> list[dict[str, object]]:
    return [
        {"id": t.id, "organisation_id": t.organisation_id, "name": t.name, "function": t.function.value}
        for t in reference.list_teams(ctx, user)
    ]


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    assert user.id is not None
    return MeOut(
        id=user.id, username=user.username, display_name=user.display_name, role=user.role.value, team_id=user.team_id
    )
