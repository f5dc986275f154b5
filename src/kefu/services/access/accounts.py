"""Use cases for users and logging in (R32). Passwords are in passwords.py, page sessions in
sessions.py, second factors in two_factor.py, API tokens in tokens.py."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from kefu.domain.errors import AuthenticationFailed, ValidationFailed
from kefu.domain.org import EXTERNAL_KINDS, Permission, Role, User
from kefu.services.access import sessions
from kefu.services.access.authz import load_managed_user, require
from kefu.services.access.passwords import check_password_policy
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


@dataclass(frozen=True)
class NewUser:
    username: str
    role: Role
    password: str
    display_name: str | None = None
    team_id: int | None = None
    organisation_id: int | None = None
    region: str | None = None
    skills: tuple[str, ...] = ()  # category codes (each covers its subtree), for routing
    must_change_password: bool = False  # the first login leads to choosing a new password


def create_user(ctx: Context, new: NewUser, *, actor: User | None = None) -> User:
    """Create a user. `actor` is None only for the command line run by the operator of the machine."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    username = new.username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "{value} is not a valid username: 2-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter.",
            field="username",
            value=new.username,
        )
    check_password_policy(ctx, new.password, username=username)
    user = User(
        id=None,
        username=username,
        display_name=(new.display_name or "").strip() or username,
        role=new.role,
        password_hash=ctx.hasher.hash(new.password),
        created_at=ctx.clock.now(),
        organisation_id=new.organisation_id,
        team_id=new.team_id,
        region=new.region,
        must_change_password=new.must_change_password,
    )
    with ctx.uow(write=True) as uow:
        if uow.users.get_by_username(username) is not None:
            raise ValidationFailed("The username {value} is taken.", field="username", value=username)
        user.organisation_id = _organisation_of(uow, new)
        if new.skills:
            known = {c.code for c in uow.categories.all()}
            if unknown := [code for code in new.skills if code not in known]:
                raise ValidationFailed("Unknown category: {codes}.", field="skills", codes=", ".join(unknown))
            user.skills = sorted(set(new.skills))
        stored = uow.users.add(user)
        uow.commit()
    return stored


def _organisation_of(uow: UnitOfWork, new: NewUser) -> int | None:
    """The organisation a new user belongs to: as given, else their team's, else the installation's
    home organisation, so that nobody is created outside every data scope (admins and auditors see
    everything anyway; the organisation is the one they act for, e.g. when they dispatch)."""
    team = None
    if new.team_id is not None and (team := uow.org.get_team(new.team_id)) is None:
        raise ValidationFailed("Team {id} does not exist.", field="team_id", id=new.team_id)
    if new.organisation_id is not None:
        if uow.org.get_organisation(new.organisation_id) is None:
            raise ValidationFailed("Organisation {id} does not exist.", field="organisation_id", id=new.organisation_id)
        if team is not None and team.organisation_id != new.organisation_id:
            raise ValidationFailed("Team {id} belongs to another organisation.", field="team_id", id=new.team_id)
        return new.organisation_id
    if team is not None:
        return team.organisation_id
    home = next((o for o in uow.org.organisations() if o.parent_id is None and o.kind not in EXTERNAL_KINDS), None)
    return home.id if home else None


def log_in(ctx: Context, username: str, password: str, *, client: sessions.Client | None = None) -> tuple[User, str]:
    """Check the password and open a page session; returns the user and the session token."""
    with ctx.uow() as uow:
        user = uow.users.get_by_username(username.strip().lower())
    if user is None or not user.active or not ctx.hasher.verify(password, user.password_hash):
        raise AuthenticationFailed()
    # The session is complete only once the login steps due are done (second factor, new password,
    # enrolment): see kefu.services.access.sessions.
    return user, sessions.open_session(ctx, user, client or sessions.Client())


def managed_user(ctx: Context, actor: User, user: int | str) -> User:
    """A user (by id or username) whose account `actor` manages (see authz.require_manages_user)."""
    with ctx.uow() as uow:
        return load_managed_user(ctx, uow, actor, user)


def find_user(ctx: Context, username: str) -> User:
    """A user by username, for the command line run by the operator of the machine."""
    with ctx.uow() as uow:
        return load_managed_user(ctx, uow, None, username)


def usernames(ctx: Context, ids: list[int]) -> dict[int, str]:
    """Usernames by id, for the command line's lists."""
    with ctx.uow() as uow:
        return {i: u.username for i, u in uow.users.get_many(sorted(set(ids))).items()}


def ensure_admin(ctx: Context) -> str | None:
    """Create the `admin` user with a random password if there is none; returns that password once.
    The first login with it leads to choosing a password of one's own."""
    with ctx.uow() as uow:
        if uow.users.get_by_username("admin") is not None:
            return None
    password = secrets.token_urlsafe(12) + "7a"
    create_user(
        ctx,
        NewUser(username="admin", role=Role.ADMIN, password=password, display_name="管理员", must_change_password=True),
    )
    return password
