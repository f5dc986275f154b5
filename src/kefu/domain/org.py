"""Organisations, teams and the people in them; roles and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class OrganisationKind(StrEnum):
    HEADQUARTERS = "headquarters"  # 集团
    PROVINCE = "province"  # 省公司客服中心
    CITY = "city"  # 地市分公司
    VENDOR = "vendor"  # 终端厂商
    PARTNER = "partner"


#: The inactive account that signs what kefu does by itself (see kefu.services.access.system).
SYSTEM_USERNAME = "system"


class TeamFunction(StrEnum):
    RECEPTION = "reception"  # 客户接待组
    TECH_SUPPORT = "tech_support"  # 技术支持组
    FIELD_REPAIR = "field_repair"  # 现场维修组
    QUALITY = "quality"  # 质量反馈组


class Role(StrEnum):
    AGENT = "agent"
    TECH_SUPPORT = "tech_support"
    FIELD_ENGINEER = "field_engineer"
    QUALITY = "quality"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Permission(StrEnum):
    READ = "read"
    CUSTOMER_CREATE = "customer.create"
    WORKORDER_CREATE = "workorder.create"
    WORKORDER_TRANSITION = "workorder.transition"
    WORKORDER_NOTE = "workorder.note"
    PII_VIEW = "pii.view"  # may ask for unmasked phone, ID number, address (every view is logged)
    USER_MANAGE = "user.manage"
    SLA_MANAGE = "sla.manage"  # policies, calendars, service agreements
    WORKORDER_DISPATCH = "workorder.dispatch"  # send hops, answer them, schedule field visits
    #: organisations, teams, agents' skills/shifts/capacity, routing rules, categories, message templates
    ROUTING_MANAGE = "routing.manage"
    AUDIT_READ = "audit.read"  # read and filter the audit log (auditors and admins)


P = Permission
_HANDLING = {P.READ, P.WORKORDER_TRANSITION, P.WORKORDER_NOTE, P.WORKORDER_DISPATCH}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE}),
    Role.TECH_SUPPORT: frozenset(_HANDLING),
    # Field engineers have to reach the customer and find the site.
    Role.FIELD_ENGINEER: frozenset(_HANDLING | {P.PII_VIEW}),
    Role.QUALITY: frozenset({P.READ, P.WORKORDER_NOTE}),
    Role.SUPERVISOR: frozenset(
        _HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE, P.PII_VIEW, P.SLA_MANAGE, P.ROUTING_MANAGE}
    ),
    Role.ADMIN: frozenset(set(Permission)),
    Role.AUDITOR: frozenset({P.READ, P.AUDIT_READ}),
}


def role_may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass
class Organisation:
    id: int | None
    name: str
    kind: OrganisationKind
    parent_id: int | None = None
    region: str | None = None


@dataclass
class Team:
    id: int | None
    organisation_id: int
    name: str
    function: TeamFunction


@dataclass
class User:
    """Anyone who logs in. Agents are users in a team."""

    id: int | None
    username: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    active: bool = True
    organisation_id: int | None = None
    team_id: int | None = None
    region: str | None = None
    skills: list[str] = field(default_factory=list)  # category codes; each covers its subtree
    languages: list[str] = field(default_factory=list)  # e.g. "zh", "yue" (Cantonese), "en"
    capacity: int = 20  # most open work orders this person should handle at once
    on_shift: bool = True
    open_assigned: int = 0  # open work orders handled now (kept by storage)
    must_change_password: bool = False  # an administrator asked for a new password at the next login

    def may(self, permission: Permission) -> bool:
        return self.active and role_may(self.role, permission)

    @property
    def sees_everything(self) -> bool:
        """Admins and auditors look across all organisations; everyone else sees their own scope."""
        return self.role in (Role.ADMIN, Role.AUDITOR)


#: Organisations outside the operator: they see only what was dispatched to them, masked.
EXTERNAL_KINDS = frozenset({OrganisationKind.VENDOR, OrganisationKind.PARTNER})


def visible_organisations(user: User, organisations: list[Organisation]) -> frozenset[int] | None:
    """The organisations whose work orders (owned or dispatched to) `user` may see; None = all.

    The operator's own organisations see downwards: headquarters sees every province and city
    below it, a province its cities. A vendor or partner sees only its own organisation.
    """
    if user.sees_everything:
        return None
    if user.organisation_id is None:
        return frozenset()
    by_id = {o.id: o for o in organisations}
    own = by_id.get(user.organisation_id)
    if own is None or own.kind in EXTERNAL_KINDS:
        return frozenset({user.organisation_id})
    children: dict[int | None, list[int]] = {}
    for o in organisations:
        if o.id is not None and o.kind not in EXTERNAL_KINDS:
            children.setdefault(o.parent_id, []).append(o.id)
    seen: set[int] = set()
    todo = [user.organisation_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(children.get(current, []))
    return frozenset(seen)


def is_external(user: User, organisations: list[Organisation]) -> bool:
    """A vendor's or partner's user: customer personal data stays masked whatever the role."""
    return any(o.id == user.organisation_id and o.kind in EXTERNAL_KINDS for o in organisations)
