"""Administering users within the organisation subtree (R32): who is listed, placing someone in an
organisation, a team and a role, disabling and re-enabling accounts. Creating one is
`accounts.create_user`; the checks are in `authz` (one place), the rules in kefu.domain.org.

A disabled user's sessions and API tokens are revoked: they stop working at once in this process
(the token cache is cleared) and within `ctx.cache_ttl` in the others; re-enabling does not bring
them back.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, PermissionDenied, ValidationFailed
from kefu.domain.org import SYSTEM_USERNAME, Permission, Role, User, manages, role_covers
from kefu.services import audit
from kefu.services.access import authz, scope
from kefu.services.access.accounts import account_of
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork


def list_users(ctx: Context, actor: User, *, include_inactive: bool = True) -> list[User]:
    """The accounts `actor` may administer or see: those of its organisation's subtree."""
    authz.require(actor, Permission.USER_MANAGE)
    with ctx.uow() as uow:
        found = uow.users.find(
            roles=tuple(Role),
            organisation_ids=authz.staff_scope(ctx, uow, actor),
            include_inactive=include_inactive,
        )
    return [u for u in found if u.username != SYSTEM_USERNAME]


def placements(ctx: Context, actor: User) -> tuple[list[Role], frozenset[int]]:
    """For forms: the roles `actor` may give, and the organisations where (its subtree)."""
    authz.require(actor, Permission.USER_MANAGE)
    with ctx.uow() as uow:
        tree = scope.tree(ctx, uow)
        where = frozenset(o for o in tree.by_id if manages(actor, o, tree))
    return [r for r in Role if role_covers(actor.role, r)], where


def place(
    ctx: Context,
    uow: UnitOfWork,
    actor: User,
    user: User,
    *,
    role: Role | None = None,
    organisation_id: int | None = None,
    team_id: int | None = None,
) -> None:
    """Inside a use case that checked `actor` may change `user`: give `user` a role, an organisation
    and a team (None leaves each as it is). The result must be a role `actor` covers, in an
    organisation of its subtree; a team moves the user to the team's organisation, and a user moved to
    another organisation leaves a team that is not there."""
    role = role or user.role
    if team_id is not None:
        team = uow.org.get_team(team_id)
        if team is None:
            raise ValidationFailed("Team {id} does not exist.", field="team_id", id=team_id)
        if organisation_id is not None and organisation_id != team.organisation_id:
            raise ValidationFailed("Team {id} belongs to another organisation.", field="team_id", id=team_id)
        organisation_id = team.organisation_id
    elif organisation_id is not None and uow.org.get_organisation(organisation_id) is None:
        raise ValidationFailed("Organisation {id} does not exist.", field="organisation_id", id=organisation_id)
    target = organisation_id if organisation_id is not None else user.organisation_id
    if (role, target) != (user.role, user.organisation_id):
        authz.require_placement(ctx, uow, actor, role, target)
    if team_id is not None:
        user.team_id = team_id
    elif target != user.organisation_id and user.team_id is not None:
        team = uow.org.get_team(user.team_id)
        if team is None or team.organisation_id != target:
            user.team_id = None
    user.role, user.organisation_id = role, target


@dataclass(frozen=True)
class AccountChange:
    """What an administrator changes of an account; None leaves a field as it is."""

    display_name: str | None = None
    role: Role | None = None
    organisation_id: int | None = None
    team_id: int | None = None
    active: bool | None = None  # False disables the account (its sessions and tokens are revoked)


def update_user(ctx: Context, actor: User, user_id: int, change: AccountChange) -> User:
    """Change someone's name, role, organisation or team, or disable or enable the account — inside
    the actor's subtree, with roles the actor covers; nobody disables their own account."""
    with ctx.uow(write=True) as uow:
        user = authz.managed_user(ctx, uow, actor, Permission.USER_MANAGE, user_id)
        before = account_of(user)
        if change.display_name is not None:
            name = change.display_name.strip()
            if not 1 <= len(name) <= 100:
                raise ValidationFailed("The name must be 1 to 100 characters long.", field="display_name")
            user.display_name = name
        place(ctx, uow, actor, user, role=change.role, organisation_id=change.organisation_id, team_id=change.team_id)
        if change.active is not None and change.active != user.active:
            if user.id == actor.id:
                raise PermissionDenied(role=actor.role.value, action=N_("disable your own account"))
            user.active = change.active
            if not change.active:
                for kind in ("session", "api"):
                    uow.tokens.revoke_of_user(user.id or 0, kind, ctx.clock.now())
        _store(ctx, uow, actor, user, before)
    return user


def _store(ctx: Context, uow: UnitOfWork, actor: User, user: User, before: dict[str, object]) -> None:
    uow.users.update_profile(user)
    if (after := account_of(user)) != before:
        audit.record_setting_change(ctx, uow, actor, "user", user.username, before, after)
        if after["role"] != before["role"]:  # what an auditor looks for on its own
            audit.record(
                ctx,
                uow,
                actor,
                AuditAction.ROLE_CHANGED,
                subject_type="user",
                subject_id=user.id,
                details={"before": before["role"], "after": after["role"]},
            )
    uow.commit()
    ctx.caches.tokens.clear()  # cached sessions carry the old account: at once in this process
    ctx.caches.dashboards.clear()
