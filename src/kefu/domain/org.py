"""Organisations, teams and the people in them; roles and what each role may do; and the one
permission model (R32): permissions are granted within an organisation subtree.

* A role says what someone may do (`ROLE_PERMISSIONS`); the organisation says where. Whoever manages
  users, teams or routing rules does so only inside their own organisation's subtree (`manages`).
* Nobody gives a role whose permissions exceed their own (`role_covers`), to themselves or anyone,
  and nobody edits someone whose role exceeds their own.
* Settings that affect every organisation (organisations themselves, categories, customer message
  templates, SLA policies and calendars, routing rules between organisations) belong to the admins of
  the top organisation (`runs_installation`).
* Vendors and partners (`EXTERNAL_KINDS`) never administer the operator's staff, and the operator's
  organisations never hang below theirs.

docs/SECURITY.md states the model and the role x organisation x action matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property


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
    USER_MANAGE = "user.manage"  # create, edit, disable users (within the organisation subtree)
    SLA_MANAGE = "sla.manage"  # service agreements of the customers in scope
    WORKORDER_DISPATCH = "workorder.dispatch"  # send hops, answer them, schedule field visits
    #: teams, agents' team/skills/shifts/capacity, routing rules within the organisation subtree
    ROUTING_MANAGE = "routing.manage"
    #: settings that affect every organisation: organisations, categories, customer message templates,
    #: SLA policies and calendars, routing rules between organisations (held at the top organisation)
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"  # read and filter the audit log (auditors and admins; within their subtree)


P = Permission
_HANDLING = {P.READ, P.WORKORDER_TRANSITION, P.WORKORDER_NOTE, P.WORKORDER_DISPATCH}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE}),
    Role.TECH_SUPPORT: frozenset(_HANDLING),
    # Field engineers have to reach the customer and find the site.
    Role.FIELD_ENGINEER: frozenset(_HANDLING | {P.PII_VIEW}),
    Role.QUALITY: frozenset({P.READ, P.WORKORDER_NOTE}),
    Role.SUPERVISOR: frozenset(
        _HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE, P.PII_VIEW, P.SLA_MANAGE, P.ROUTING_MANAGE, P.USER_MANAGE}
    ),
    Role.ADMIN: frozenset(set(Permission)),
    Role.AUDITOR: frozenset({P.READ, P.AUDIT_READ}),
}


def role_may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def role_covers(holder: Role, granted: Role) -> bool:
    """Whether someone with role `holder` may give role `granted` (or manage someone who has it):
    every permission of `granted` is one `holder` has. Roles are ranked by what they may do, so
    nobody raises anyone, themselves included, above their own role."""
    return ROLE_PERMISSIONS[granted] <= ROLE_PERMISSIONS[holder]


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
    #: Where copies of notifications go (staff notifications by e-mail or SMS); personal data: masked in reads.
    email: str | None = None
    phone: str | None = None

    def may(self, permission: Permission) -> bool:
        return self.active and role_may(self.role, permission)


#: Organisations outside the operator: they see only what was dispatched to them, masked.
EXTERNAL_KINDS = frozenset({OrganisationKind.VENDOR, OrganisationKind.PARTNER})


class OrgTree:
    """All organisations as one tree under the top organisation (the installation's first
    organisation without a parent that is not a vendor or partner: the operator's HQ).

    An organisation without a parent hangs directly under the top organisation: vendors and partners,
    and any operator organisation added without a parent, so that every organisation is in the top
    organisation's subtree and in no other root's.
    """

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self.by_id = {o.id: o for o in organisations if o.id is not None}
        roots = sorted(i for i, o in self.by_id.items() if o.parent_id is None and o.kind not in EXTERNAL_KINDS)
        self.top_id: int | None = roots[0] if roots else None
        self._subtrees: dict[int, frozenset[int]] = {}  # asked on every read: kept while the tree is cached

    def parent_of(self, organisation_id: int) -> int | None:
        org = self.by_id.get(organisation_id)
        if org is None or organisation_id == self.top_id:
            return None
        if org.parent_id is None or org.parent_id not in self.by_id:
            return self.top_id
        return org.parent_id

    @cached_property
    def _children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for organisation_id in self.by_id:
            parent = self.parent_of(organisation_id)
            if parent is not None:
                out.setdefault(parent, []).append(organisation_id)
        return out

    def subtree(self, organisation_id: int) -> frozenset[int]:
        """The organisation and every organisation below it."""
        if organisation_id not in self.by_id:
            return frozenset()
        if (known := self._subtrees.get(organisation_id)) is not None:
            return known
        seen: set[int] = set()
        todo = [organisation_id]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self._children.get(current, []))
        self._subtrees[organisation_id] = frozenset(seen)
        return self._subtrees[organisation_id]

    def contains(self, ancestor_id: int, organisation_id: int) -> bool:
        """`organisation_id` is `ancestor_id` or below it."""
        current: int | None = organisation_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            if current == ancestor_id:
                return True
            seen.add(current)
            current = self.parent_of(current)
        return False

    def ancestors(self, organisation_id: int | None) -> list[int]:
        """The organisation and those above it, nearest first (none for None)."""
        chain: list[int] = []
        current = organisation_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent_of(current)
        return chain

    def is_external(self, organisation_id: int | None) -> bool:
        org = self.by_id.get(organisation_id) if organisation_id is not None else None
        return org is not None and org.kind in EXTERNAL_KINDS


def is_external(user: User, tree: OrgTree) -> bool:
    """A vendor's or partner's user: customer personal data stays masked whatever the role."""
    return tree.is_external(user.organisation_id)


def at_top(user: User, tree: OrgTree) -> bool:
    return user.organisation_id is not None and user.organisation_id == tree.top_id


def visible_organisations(user: User, tree: OrgTree) -> frozenset[int] | None:
    """The organisations whose work orders (owned or dispatched to) `user` may see; None = all.

    The operator's own organisations see downwards: headquarters sees every province and city
    below it, a province its cities; the top organisation's admins and auditors see everything. A
    vendor or partner sees only its own organisation, whatever the role.
    """
    if user.organisation_id is None or user.organisation_id not in tree.by_id:
        return frozenset()
    if tree.is_external(user.organisation_id):
        return frozenset({user.organisation_id})
    if user.role in (Role.ADMIN, Role.AUDITOR) and at_top(user, tree):
        return None
    return frozenset(o for o in tree.subtree(user.organisation_id) if not tree.is_external(o))


def visible_staff(user: User, tree: OrgTree) -> frozenset[int] | None:
    """The organisations whose people `user` sees in lists (colleagues, those it manages): its own
    organisation's subtree; None = all (the top organisation)."""
    if at_top(user, tree):
        return None
    return tree.subtree(user.organisation_id) if user.organisation_id is not None else frozenset()


def manages(actor: User, organisation_id: int | None, tree: OrgTree) -> bool:
    """Whether `actor` administers what belongs to this organisation: its own organisation's subtree.
    A vendor's or partner's user never administers an operator organisation."""
    own = actor.organisation_id
    if not actor.active or own is None or organisation_id is None or organisation_id not in tree.by_id:
        return False
    if tree.is_external(own) and not tree.is_external(organisation_id):
        return False
    return tree.contains(own, organisation_id)


def manages_user(actor: User, target: User, tree: OrgTree) -> bool:
    """Whether `actor` may change `target`'s account: inside its subtree, with a role it covers. The
    account that signs what kefu does by itself is nobody's to change."""
    if target.username == SYSTEM_USERNAME:
        return False
    return manages(actor, target.organisation_id, tree) and role_covers(actor.role, target.role)


def may_place(actor: User, role: Role, organisation_id: int | None, tree: OrgTree) -> bool:
    """Whether `actor` may give someone `role` in this organisation (a new user, or a change)."""
    return role_covers(actor.role, role) and manages(actor, organisation_id, tree)


def runs_installation(actor: User, tree: OrgTree) -> bool:
    """Settings that affect every organisation belong to the admins of the top organisation."""
    return actor.may(Permission.SETTINGS_MANAGE) and at_top(actor, tree)
