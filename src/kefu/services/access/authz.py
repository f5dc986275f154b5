"""Permission checks shared by every use case."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kefu.domain.errors import N_, NotFound, PermissionDenied
from kefu.domain.org import EXTERNAL_KINDS, Permission, Role, User, visible_organisations
from kefu.services.access import scope
from kefu.services.ports import UnitOfWork

if TYPE_CHECKING:  # context.py imports access.lockout, which needs this module: no cycle at run time
    from kefu.services.context import Context

_ACTIONS: dict[Permission, str] = {
    Permission.READ: N_("read work orders"),
    Permission.CUSTOMER_CREATE: N_("register customers"),
    Permission.WORKORDER_CREATE: N_("register work orders"),
    Permission.WORKORDER_TRANSITION: N_("change the status of work orders"),
    Permission.WORKORDER_NOTE: N_("add notes to work orders"),
    Permission.PII_VIEW: N_("see unmasked personal data"),
    Permission.USER_MANAGE: N_("manage users"),
    Permission.SLA_MANAGE: N_("manage time limits, calendars and service agreements"),
    Permission.WORKORDER_DISPATCH: N_("dispatch work orders or schedule field visits"),
    Permission.ROUTING_MANAGE: N_(
        "manage organisations, teams, agents, routing rules, categories and message templates"
    ),
    Permission.AUDIT_READ: N_("read the audit log"),
}


def require(actor: User, permission: Permission) -> None:
    if not actor.may(permission):
        raise PermissionDenied(role=actor.role.value, action=_ACTIONS[permission])


#: Who may act on whose account: a role manages no role ranked above its own.
_RANK: dict[Role, int] = {
    Role.AGENT: 1,
    Role.TECH_SUPPORT: 1,
    Role.FIELD_ENGINEER: 1,
    Role.QUALITY: 1,
    Role.SUPERVISOR: 2,
    Role.AUDITOR: 3,
    Role.ADMIN: 3,
}


def require_manages_user(ctx: Context, uow: UnitOfWork, actor: User, target: User) -> None:
    """Refuse unless `actor` may manage `target`'s account (reset their password or second factor,
    end their sessions, revoke their tokens). Inside the caller's transaction.

    Admins of the top organisation manage everyone. Otherwise the actor needs the permission to
    manage users, the target must belong to the actor's organisation subtree (a target outside it
    is not confirmed to exist) and rank no higher; a vendor's or partner's user never manages the
    operator's staff.
    """
    require(actor, Permission.USER_MANAGE)
    organisations = scope.organisations(ctx, uow)
    by_id = {o.id: o for o in organisations}
    own = by_id.get(actor.organisation_id)
    if actor.role is Role.ADMIN and own is not None and own.parent_id is None and own.kind not in EXTERNAL_KINDS:
        return
    # The actor's organisation subtree, whatever the role (admins otherwise see every organisation).
    subtree = visible_organisations(replace(actor, role=Role.AGENT), organisations) or frozenset()
    theirs = by_id.get(target.organisation_id)
    if target.organisation_id not in subtree:
        raise NotFound(kind=N_("User"), key=target.username)
    if own is not None and own.kind in EXTERNAL_KINDS and (theirs is None or theirs.kind not in EXTERNAL_KINDS):
        raise NotFound(kind=N_("User"), key=target.username)
    if _RANK[target.role] > _RANK[actor.role]:
        raise PermissionDenied(role=actor.role.value, action=N_("manage the account of a user with a higher role"))


def load_managed_user(ctx: Context, uow: UnitOfWork, actor: User | None, user: int | str | None) -> User:
    """The user with this id or username (None: the actor), if `actor` may manage their account (see
    require_manages_user; everyone manages their own; no actor: the command line run by the operator
    of the machine). Inside the caller's transaction."""
    if user is None or (actor is not None and user == actor.id):
        assert actor is not None
        return actor
    found = uow.users.get(user) if isinstance(user, int) else uow.users.get_by_username(user.strip().lower())
    if found is None or found.id is None:
        raise NotFound(kind=N_("User"), key=user)
    if actor is not None and actor.id != found.id:
        require_manages_user(ctx, uow, actor, found)
    return found
