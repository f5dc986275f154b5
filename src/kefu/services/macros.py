"""Macros: keep them (supervisors and admins, within their organisation subtree) and apply one to a
work order — every action in one transaction, each recorded on the timeline (kefu.domain.macros).

Who applies which: the staff of an organisation apply the macros of their organisation and of those
above it (a province's agents use their province's and the HQ's; a vendor's, its own and the top
organisation's), to any work order they may change; each action is then checked as if done alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from kefu.domain.errors import N_, NotFound, StateConflict, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.macros import Macro
from kefu.domain.org import OrgTree, Permission, User, manages
from kefu.domain.workorders import WorkOrder
from kefu.services import audit, canned_replies, replies, tags
from kefu.services.access import authz, scope
from kefu.services.access.authz import require
from kefu.services.changes import changing
from kefu.services.context import Context
from kefu.services.dispatch import routing
from kefu.services.ports import UnitOfWork
from kefu.services.workorders import commands


def _above(tree: OrgTree, organisation_id: int | None) -> frozenset[int]:
    """The organisation and those above it: whose macros its staff apply (a vendor's or partner's
    staff: their own and the operator's shared ones, kept at the top organisation)."""
    return frozenset(tree.ancestors(organisation_id))


def _manages(tree: OrgTree, actor: User, macro: Macro) -> bool:
    return actor.may(Permission.ROUTING_MANAGE) and manages(actor, macro.organisation_id, tree)


def list_macros(ctx: Context, actor: User, *, usable_only: bool = False) -> list[tuple[Macro, bool]]:
    """The macros `actor` may apply (their organisation's and those above it), and with
    `usable_only=False` also those they keep below it — each with whether they may change it."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        tree = scope.tree(ctx, uow)
        usable = _above(tree, actor.organisation_id)
        kept: frozenset[int] = frozenset()
        if not usable_only and actor.may(Permission.ROUTING_MANAGE) and actor.organisation_id is not None:
            kept = tree.subtree(actor.organisation_id)
        found = uow.macros.of_organisations(usable | kept)
    return [
        (m, _manages(tree, actor, m)) for m in found if not usable_only or (m.active and m.organisation_id in usable)
    ]


def _checked(ctx: Context, uow: UnitOfWork, macro: Macro) -> Macro:
    """What a macro names must exist where it is used: its team in its organisation's subtree, its
    canned reply known, its tags in the lists there (unless free tags are allowed there)."""
    tree = scope.tree(ctx, uow)
    if macro.team_id is not None:
        team = uow.org.get_team(macro.team_id)
        if team is None or not tree.contains(macro.organisation_id, team.organisation_id):
            raise ValidationFailed(
                "Team {id} does not exist in the macro's organisation.", field="team_id", id=macro.team_id
            )
    if macro.reply_template is not None:
        canned_replies.require_canned_reply(ctx, uow, macro.reply_template)
    return replace(macro, tags=tuple(tags.require_offered(ctx, uow, macro.organisation_id, macro.tags, "tags")))


def save_macro(ctx: Context, actor: User, macro: Macro) -> Macro:
    """Add a macro (no id) or replace one; the macro as it was and as it becomes must be kept by an
    organisation the actor manages."""
    return _saving(ctx, actor, macro.id, lambda _before: macro)


def set_macro_active(ctx: Context, actor: User, macro_id: int, active: bool) -> Macro:
    """Switch a macro off (no longer offered) or on again: the same checks as changing it, in the
    same transaction as reading it."""
    return _saving(ctx, actor, macro_id, lambda before: replace(before, active=active) if before else None)


def _saving(ctx: Context, actor: User, macro_id: int | None, change: Callable[[Macro | None], Macro | None]) -> Macro:
    require(actor, Permission.ROUTING_MANAGE)
    with ctx.uow(write=True) as uow:
        before = uow.macros.get(macro_id) if macro_id is not None else None
        tree = scope.tree(ctx, uow)
        if macro_id is not None and (before is None or before.organisation_id not in _visible_set(tree, actor)):
            raise NotFound(kind=N_("Macro"), key=macro_id)
        macro = change(before)
        assert macro is not None
        if uow.org.get_organisation(macro.organisation_id) is None:
            raise ValidationFailed(
                "Organisation {id} does not exist.", field="organisation_id", id=macro.organisation_id
            )
        if before is not None:
            authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, before.organisation_id)
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, macro.organisation_id)
        if uow.macros.name_taken(macro.organisation_id, macro.name, macro.id):
            raise ValidationFailed("A macro named {name} exists already.", field="name", name=macro.name)
        macro = _checked(ctx, uow, macro)
        saved = uow.macros.save(macro, actor_id=actor.id or 0, at=ctx.clock.now())
        audit.record_setting_change(
            ctx, uow, actor, "macro", saved.name, before.as_data() if before else None, saved.as_data()
        )
        uow.commit()
    return saved


def _visible_set(tree: OrgTree, actor: User) -> frozenset[int]:
    own = actor.organisation_id
    if own is None:
        return frozenset()
    kept = tree.subtree(own) if actor.may(Permission.ROUTING_MANAGE) else frozenset()
    return _above(tree, own) | kept


def _usable(ctx: Context, uow: UnitOfWork, actor: User, macro_id: int) -> Macro:
    macro = uow.macros.get(macro_id)
    if macro is None or macro.organisation_id not in _above(scope.tree(ctx, uow), actor.organisation_id):
        raise NotFound(kind=N_("Macro"), key=macro_id)
    if not macro.active:
        raise StateConflict("The macro {name} is switched off.", name=macro.name)
    return macro


def run_in(ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, macro_id: int, at: datetime) -> Macro:
    """Apply a macro within the caller's change to `wo` (one work order or one item of a bulk
    action): reply, tags, priority, team, note, status — in that order; any refusal undoes all."""
    macro = _usable(ctx, uow, actor, macro_id)
    for needed in (Permission.WORKORDER_TRANSITION, Permission.WORKORDER_NOTE):
        require(actor, needed)
    wo.record(
        WorkOrderEvent(
            kind=EventKind.MACRO_APPLIED,
            actor_id=actor.id or 0,
            at=at,
            data={"macro_id": macro.id, "name": macro.name, "actions": list(macro.actions)},
        )
    )
    if macro.reply_template is not None:
        replies.reply_in(ctx, uow, actor, wo, canned=macro.reply_template, at=at)
    if macro.tags:
        tags.change_in(ctx, uow, actor, wo, list(macro.tags), [], at=at, only_missing=True)
    if macro.priority is not None and macro.priority is not wo.priority:
        commands.reprioritise_in(ctx, uow, actor, wo, macro.priority, reason=macro.name, at=at)
    if macro.team_id is not None and macro.team_id != wo.team_id:
        require(actor, Permission.WORKORDER_DISPATCH)
        routing.visible_team(ctx, uow, actor, macro.team_id)
        wo.assign(team_id=macro.team_id, handler_id=None, actor_id=actor.id or 0, at=at, reason=macro.name)
    if macro.note is not None:
        wo.add_note(actor_id=actor.id or 0, at=at, body=macro.note, customer_visible=False)
    if macro.status is not None and macro.status is not wo.status:
        commands.transition_in(ctx, uow, actor, wo, macro.status, note=macro.name, at=at)
    return macro


def apply_macro(
    ctx: Context, actor: User, number: str, macro_id: int, *, expected_version: int | None = None
) -> WorkOrder:
    """Apply a macro to one work order: all its actions or none."""
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        run_in(ctx, uow, actor, wo, macro_id, now)
    return scope.as_seen_by(ctx, actor, wo)
