"""Reference data and the caller: categories, teams, me."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from kefu.api.deps import context, current_user
from kefu.api.schemas import CategoryOut, MeOut
from kefu.domain.org import User
from kefu.services.context import Context
from kefu.services.org import reference

router = APIRouter(tags=["reference"])


@router.get("/categories", response_model=list[CategoryOut])
def categories(ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[CategoryOut]:
    return [
        CategoryOut(code=c.code, parent=c.parent_code, label_zh=c.label_zh, label_en=c.label_en, active=c.active)
        for c in reference.list_categories(ctx, user)
    ]


@router.get("/teams")
def teams(ctx: Context = Depends(context), user: User = Depends(current_user)) -> list[dict[str, object]]:
    return [
        {"id": t.id, "organisation_id": t.organisation_id, "name": t.name, "function": t.function.value}
        for t in reference.list_teams(ctx, user)
    ]


@router.get("/me", response_model=MeOut)
def me(user: User = Depends(current_user)) -> MeOut:
    assert user.id is not None
    return MeOut(
        id=user.id, username=user.username, display_name=user.display_name, role=user.role.value, team_id=user.team_id
    )
