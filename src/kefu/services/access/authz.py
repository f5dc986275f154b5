"""Permission checks shared by every use case."""

from __future__ import annotations

from kefu.domain.errors import N_, PermissionDenied
from kefu.domain.org import Permission, User

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
