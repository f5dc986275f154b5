"""Use cases for users, passwords, sessions and API tokens (R32)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from kefu.domain.errors import N_, AuthenticationFailed, NotFound, ValidationFailed
from kefu.domain.org import EXTERNAL_KINDS, Permission, Role, User
from kefu.services.access import lockout
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import PasswordHasher, UnitOfWork
from kefu.services.ratelimits import Limit

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "kefu_"  # noqa: S105 - a prefix, not a secret


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


def check_password_policy(password: str) -> None:
    """At least 10 characters, with letters and digits (R32)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed("The password needs at least {n} characters.", field="password", n=MIN_PASSWORD)
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise ValidationFailed("The password needs both letters and digits.", field="password")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    check_password_policy(new.password)
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


def _issue(ctx: Context, user: User, kind: str, label: str | None) -> str:
    assert user.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = ctx.clock.now()
    lifetime = ctx.session_lifetime if kind == "session" else ctx.token_lifetime
    with ctx.uow(write=True) as uow:
        uow.tokens.add(
            user_id=user.id,
            token_hash=token_hash(token),
            kind=kind,
            label=label,
            at=now,
            expires_at=now + lifetime,
        )
        uow.commit()
    return token


def create_api_token(ctx: Context, username: str, *, label: str | None = None) -> str:
    """A bearer token for the API; only its hash is stored, so it is shown once."""
    with ctx.uow() as uow:
        user = uow.users.get_by_username(username.strip().lower())
    if user is None or not user.active:
        raise NotFound(kind=N_("User"), key=username)
    return _issue(ctx, user, "api", label)


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
        uow.commit()
    if user is None or not (usable and matches):
        raise AuthenticationFailed()
    return user


def log_in(ctx: Context, username: str, password: str, *, address: str | None = None) -> tuple[User, str]:
    """Check the password (check_password) and open a page session; the user and the session token."""
    user = check_password(ctx, username, password, address=address)
    return user, _issue(ctx, user, "session", None)


def log_out(ctx: Context, session_token: str) -> None:
    hashed = token_hash(session_token)
    with ctx.uow(write=True) as uow:
        uow.tokens.revoke(hashed, ctx.clock.now())
        uow.commit()
    ctx.caches.tokens.drop(f"session:{hashed}")


def cached_user(ctx: Context, token: str, kind: str) -> User | None:
    """The user of a token checked within `ctx.cache_ttl`, without touching the database."""
    return ctx.caches.tokens.get(f"{kind}:{token_hash(token)}")


def authenticate(ctx: Context, token: str, kind: str) -> User | None:
    """The active user a bearer or session token belongs to, or None.

    A positive answer is remembered for `ctx.cache_ttl` (never past the token's expiry), so a
    busy API client costs no database round trip per request for authentication.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    hashed = token_hash(token)
    key = f"{kind}:{hashed}"
    cached = ctx.caches.tokens.get(key)
    if cached is not None:
        return cached
    with ctx.uow() as uow:
        found = uow.tokens.user_for(hashed, kind, ctx.clock.now())
    if found is None:
        return None
    user, expires_at = found
    ctx.caches.tokens.put(key, user, not_after=expires_at)
    return user


def ensure_admin(ctx: Context) -> str | None:
    """Create the `admin` user with a random password if there is none; returns that password once."""
    with ctx.uow() as uow:
        if uow.users.get_by_username("admin") is not None:
            return None
    password = secrets.token_urlsafe(12) + "7a"
    create_user(ctx, NewUser(username="admin", role=Role.ADMIN, password=password, display_name="管理员"))
    return password
