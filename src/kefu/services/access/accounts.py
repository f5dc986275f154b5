"""Use cases for users and logging in (R32). Passwords are in passwords.py, page sessions in
sessions.py, second factors in two_factor.py, API tokens in tokens.py."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from kefu.domain.audit import AuditAction
from kefu.domain.errors import AuthenticationFailed, ValidationFailed
from kefu.domain.org import OrgTree, Permission, Role, User
from kefu.services import audit
from kefu.services.access import lockout, sessions
from kefu.services.access.authz import load_managed_user, require, require_placement
from kefu.services.access.passwords import check_password_policy
from kefu.services.context import Context
from kefu.services.ports import PasswordHasher, UnitOfWork
from kefu.services.ratelimits import Limit

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
    """Create a user. `actor` is None only for the command line run by the operator of the machine;
    otherwise the new user is placed inside the actor's organisation subtree (its own organisation
    unless another one or a team is named), with a role the actor covers (kefu.services.access.authz)."""
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
        display_name=(new.display_name or "").strip()[:100] or username,
        role=new.role,
        password_hash=ctx.hasher.hash(new.password),
        created_at=ctx.clock.now(),
        organisation_id=new.organisation_id,
        team_id=new.team_id,
        region=new.region,
        must_change_password=new.must_change_password,
    )
    with ctx.uow(write=True) as uow:
        user.organisation_id = _organisation_of(uow, new, actor)
        if actor is not None:
            require_placement(ctx, uow, actor, new.role, user.organisation_id)
        if uow.users.get_by_username(username) is not None:
            raise ValidationFailed("The username {value} is taken.", field="username", value=username)
        if new.skills:
            known = {c.code for c in uow.categories.all()}
            if unknown := [code for code in new.skills if code not in known]:
                raise ValidationFailed("Unknown category: {codes}.", field="skills", codes=", ".join(unknown))
            user.skills = sorted(set(new.skills))
        stored = uow.users.add(user)
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.USER_CREATED,
            subject_type="user",
            subject_id=stored.id,
            details={"username": username, "role": stored.role.value, "organisation_id": stored.organisation_id},
        )
        uow.commit()
    return stored


def account_of(user: User) -> dict[str, object]:
    """What the change log records of an account."""
    return {
        "role": user.role.value,
        "organisation_id": user.organisation_id,
        "team_id": user.team_id,
        "display_name": user.display_name,
        "active": user.active,
    }


def _organisation_of(uow: UnitOfWork, new: NewUser, actor: User | None) -> int | None:
    """The organisation a new user belongs to: as given, else their team's, else the creating
    actor's own, else (from the command line) the top organisation, so that nobody is created
    outside every data scope."""
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
    if actor is not None:
        return actor.organisation_id
    return OrgTree(uow.org.organisations()).top_id


_DUMMY_HASHES: dict[int, tuple[PasswordHasher, str]] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of no one's password, made by the installation's hasher, to verify against when
    there is no password to check: the answer then costs what a wrong password costs."""
    known = _DUMMY_HASHES.get(id(hasher))
    if known is None or known[0] is not hasher:
        known = _DUMMY_HASHES[id(hasher)] = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return known[1]


def check_password(ctx: Context, username: str, password: str, *, address: str | None = None) -> User:
    """The user, if the password is theirs and neither the account nor the address is locked.

    Every attempt does the same work whatever the reason it fails — an unknown username, an
    inactive account, a lock, a wrong password: one read of the user, one of each lock, one
    password verification (against a dummy hash when there is no password to check), one write of
    the failure counts — and is refused with the same message, so neither the answer nor its
    timing tells which usernames exist or which are locked. Before all that, attempts from one
    address are rate-limited (RateLimited: 429)."""
    if address is not None:
        ctx.rate_limits.check(Limit.LOGIN_ADDRESS, address)
    name = username.strip().lower()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        user = uow.users.get_by_username(name)
        locked = lockout.is_locked(uow, now, name, address)
        password_hash = user.password_hash if user is not None and user.active and not locked else None
        matches = ctx.hasher.verify(password, password_hash or _dummy_hash(ctx.hasher))
        usable = password_hash is not None
        if user is not None and usable and matches:
            lockout.succeeded(uow, name)
        else:
            lockout.failed(uow, ctx.lockout, now, name, address)
            audit.record(
                ctx,
                uow,
                None,
                AuditAction.LOGIN_FAILED,
                subject_type="user" if user is not None else None,
                subject_id=user.id if user is not None else None,
                origin=address,
                details={"username": name[: lockout.LONGEST_KEY], "address": address, "locked": locked},
            )
        uow.commit()
    if user is None or not (usable and matches):
        raise AuthenticationFailed()
    return user


def log_in(ctx: Context, username: str, password: str, *, client: sessions.Client | None = None) -> tuple[User, str]:
    """Check the password (check_password: the address's rate limit, the lockout, the same work and
    answer for every refusal), then open a page session; returns the user and the session token.

    The session is complete only once the login steps due are done (the second factor, a new
    password, enrolment): see kefu.services.access.sessions."""
    client = client or sessions.Client()
    user = check_password(ctx, username, password, address=client.address or None)
    return user, sessions.open_session(ctx, user, client)


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
