"""/api/v1/users: the accounts of the caller's organisation subtree — list, create, change (name,
role, organisation, team), disable and enable. What may be done to whom is decided in the services
(kefu.services.access.authz)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.schemas import MAX_ID, Strict
from kefu.domain.customers import mask_email, mask_phone
from kefu.domain.org import Role, User
from kefu.services.access import accounts, users

router = APIRouter(prefix="/users", tags=["users"])


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    team_id: int | None
    active: bool
    created_at: datetime
    email: str | None = Field(default=None, description="where copies of notifications go (masked)")
    phone: str | None = Field(default=None, description="where text messages go (masked)")

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id or 0,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            organisation_id=u.organisation_id,
            team_id=u.team_id,
            active=u.active,
            created_at=u.created_at,
            email=mask_email(u.email) if u.email else None,
            phone=mask_phone(u.phone) if u.phone else None,
        )


class UserIn(Strict):
    username: Annotated[str, Field(min_length=2, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    display_name: Annotated[str | None, Field(max_length=100)] = None
    organisation_id: Annotated[
        int | None, Field(gt=0, le=MAX_ID, description="default: the team's, else your own organisation")
    ] = None
    team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    must_change_password: bool = Field(
        default=False,
        description="the first login leads to choosing a new password (a person's account; "
        "false for an integration's account that logs in with this password)",
    )


class UserChangeIn(Strict):
    display_name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    role: Role | None = None
    organisation_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None
    active: bool | None = Field(default=None, description="false disables the account and revokes its tokens")


@router.get("", response_model=list[UserOut])
def list_users(ctx: Ctx, user: CurrentUser) -> list[UserOut]:
    """The accounts of your organisation and the organisations below it, disabled ones included."""
    return [UserOut.of(u) for u in users.list_users(ctx, user)]


@router.post("", status_code=201, response_model=UserOut)
def create_user(body: UserIn, ctx: Ctx, user: CurrentUser) -> UserOut:
    """A new account in your subtree, with a role whose permissions you have yourself."""
    new = accounts.NewUser(
        username=body.username,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
        team_id=body.team_id,
        organisation_id=body.organisation_id,
        region=body.region,
        must_change_password=body.must_change_password,
    )
    return UserOut.of(accounts.create_user(ctx, new, actor=user))


@router.patch("/{user_id}", response_model=UserOut)
def change_user(user_id: Id, body: UserChangeIn, ctx: Ctx, user: CurrentUser) -> UserOut:
    """Change name, role, organisation or team, or disable / enable the account."""
    return UserOut.of(users.update_user(ctx, user, user_id, users.AccountChange(**body.model_dump())))
