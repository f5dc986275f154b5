"""Tags on work orders (issue #12, part 7): the organisations' lists of tags and whether tags outside
them may be typed (settings, managed within the organisation subtree like teams and routing rules:
kefu.services.access.authz), and adding or removing the tags of a work order (an event on it).

The tags a work order may get are those of the lists of its organisation and the organisations above
it; free tags are allowed when the nearest of those organisations with a setting allows them (none:
not allowed). Tags are stored by name, so lists filter on them (`WorkOrderFilter.tag`) and a text
index can take them as they are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import OrgTree, Permission, User, at_top, manages
from kefu.domain.tags import MAX_PER_WORK_ORDER, Tag, clean_tag, clean_tags
from kefu.domain.workorders import WorkOrder
from kefu.services import audit
from kefu.services.access import authz, scope
from kefu.services.access.authz import require
from kefu.services.access.scope import load_work_order
from kefu.services.changes import changing
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork


def _visible(tree: OrgTree, actor: User, organisation_id: int) -> bool:
    """A list `actor` reads: its organisation's, those below and those above it (all at the top)."""
    own = actor.organisation_id
    if own is None:
        return False
    return at_top(actor, tree) or tree.contains(own, organisation_id) or tree.contains(organisation_id, own)


def _free_allowed(tree: OrgTree, settings: dict[int, bool], organisation_id: int | None) -> bool:
    return next((settings[o] for o in tree.ancestors(organisation_id) if o in settings), False)


@dataclass(frozen=True)
class TagAdmin:
    """What the tags page shows: the lists the actor reads, and the free-tags setting of each
    organisation it manages (None: inherited from above, shown as what applies)."""

    tags: list[Tag]
    free_tags: dict[int, bool]  # organisation -> what applies to its work orders
    own_setting: dict[int, bool]  # organisation -> its own setting, where it has one
    managed: list[int]  # organisations whose lists and setting the actor may change


def tag_admin(ctx: Context, actor: User) -> TagAdmin:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        tree = scope.tree(ctx, uow)
        settings = uow.tags.free_tags()
        found = [
            t
            for t in uow.tags.of_organisations(None, include_inactive=True)
            if _visible(tree, actor, t.organisation_id)
        ]
        managed = []
        if actor.may(Permission.ROUTING_MANAGE) and actor.organisation_id is not None:
            managed = sorted(o for o in tree.subtree(actor.organisation_id) if manages(actor, o, tree))
        return TagAdmin(
            tags=found,
            free_tags={o: _free_allowed(tree, settings, o) for o in managed},
            own_setting={o: v for o, v in settings.items() if o in managed},
            managed=managed,
        )


def list_tags(ctx: Context, actor: User) -> list[Tag]:
    """The tags in use of the lists the actor reads (for pickers and the list's filter)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        tree = scope.tree(ctx, uow)
        return [t for t in uow.tags.of_organisations(None) if _visible(tree, actor, t.organisation_id)]


def add_tag(ctx: Context, actor: User, *, organisation_id: int, name: str) -> Tag:
    """A new tag in the list of an organisation of the actor's subtree."""
    clean = clean_tag(name, "name")
    with ctx.uow(write=True) as uow:
        if uow.org.get_organisation(organisation_id) is None:
            raise ValidationFailed("Organisation {id} does not exist.", field="organisation_id", id=organisation_id)
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, organisation_id)
        if any(t.name == clean for t in uow.tags.of_organisations([organisation_id], include_inactive=True)):
            raise ValidationFailed("The organisation has a tag named {name} already.", field="name", name=clean)
        tag = uow.tags.add(Tag(id=None, organisation_id=organisation_id, name=clean, created_at=ctx.clock.now()))
        audit.record_setting_change(
            ctx, uow, actor, "tag", tag.id, None, {"name": clean, "organisation_id": organisation_id, "active": True}
        )
        uow.commit()
    return tag


def set_tag_active(ctx: Context, actor: User, tag_id: int, active: bool) -> Tag:
    """Retire a tag from its list (work orders keep it) or bring it back."""
    with ctx.uow(write=True) as uow:
        tag = uow.tags.get(tag_id)
        if tag is None or not _visible(scope.tree(ctx, uow), actor, tag.organisation_id):
            raise NotFound(kind=N_("Tag"), key=tag_id)
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, tag.organisation_id)
        if tag.active != active:
            uow.tags.set_active(tag_id, active)
            audit.record_setting_change(ctx, uow, actor, "tag", tag_id, {"active": tag.active}, {"active": active})
        uow.commit()
    return Tag(tag.id, tag.organisation_id, tag.name, tag.created_at, active)


def set_free_tags(ctx: Context, actor: User, *, organisation_id: int, allowed: bool) -> None:
    """Whether tags outside the lists may be typed on the work orders of this organisation's subtree
    (below it, an organisation's own setting wins)."""
    with ctx.uow(write=True) as uow:
        if uow.org.get_organisation(organisation_id) is None:
            raise ValidationFailed("Organisation {id} does not exist.", field="organisation_id", id=organisation_id)
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, organisation_id)
        before = uow.tags.free_tags().get(organisation_id)
        if before != allowed:
            uow.tags.set_free_tags(organisation_id, allowed)
            audit.record_setting_change(
                ctx, uow, actor, "tag_setting", organisation_id, {"free_tags": before}, {"free_tags": allowed}
            )
        uow.commit()


@dataclass(frozen=True)
class WorkOrderTags:
    tags: list[str]  # what it carries
    offered: list[str]  # the lists' tags it may get
    free: bool  # whether other tags may be typed
    version: int


def _offered(ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder) -> tuple[list[str], bool]:
    """The lists' tags `actor` may give this work order, and whether free tags are allowed. A vendor or
    partner it was dispatched to is offered none of the owner's lists (they are the owner's)."""
    tree = scope.tree(ctx, uow)
    free = _free_allowed(tree, uow.tags.free_tags(), wo.organisation_id)
    if scope.external(ctx, uow, actor) and wo.organisation_id not in (scope.visible_to(ctx, uow, actor) or ()):
        return [], free
    names = sorted({t.name for t in uow.tags.of_organisations(tree.ancestors(wo.organisation_id))})
    return names, free


def work_order_tags(ctx: Context, actor: User, number: str) -> WorkOrderTags:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = load_work_order(ctx, uow, actor, number)
        offered, free = _offered(ctx, uow, actor, wo)
        return WorkOrderTags(uow.tags.of_work_order(wo.id or 0), offered, free, wo.version)


def tags_of(ctx: Context, actor: User, shown: Iterable[WorkOrder]) -> dict[int, list[str]]:
    """The tags of work orders a list just showed the actor (their ids come from a scoped read)."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.tags.of_work_orders([w.id for w in shown if w.id is not None])


def change_tags(
    ctx: Context,
    actor: User,
    number: str,
    *,
    add: list[str] | None = None,
    remove: list[str] | None = None,
    expected_version: int | None = None,
) -> WorkOrderTags:
    """Add and remove tags of a work order: one event saying which. A tag to add must be in the lists
    that apply to it unless free tags are allowed there; a work order carries at most 20."""
    adding, removing = clean_tags(add or [], "add"), clean_tags(remove or [], "remove")
    if not adding and not removing:
        raise ValidationFailed("Name a tag to add or to remove.", field="add")
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        result, offered, free = change_in(ctx, uow, actor, wo, adding, removing, at=now)
    return WorkOrderTags(result, offered, free, wo.version)


def change_in(
    ctx: Context,
    uow: UnitOfWork,
    actor: User,
    wo: WorkOrder,
    adding: list[str],
    removing: list[str],
    *,
    at: datetime,
    only_missing: bool = False,
) -> tuple[list[str], list[str], bool]:
    """Add and remove (cleaned) tags within the caller's change to `wo` (`change_tags`, a macro):
    the tags it then carries, the lists' tags offered and whether free tags are allowed.
    `only_missing`: tags it has already are no refusal (a macro adds what is missing)."""
    assert wo.id is not None
    current = uow.tags.of_work_order(wo.id)
    offered, free = _offered(ctx, uow, actor, wo)
    if not free and (unknown := [t for t in adding if t not in offered and t not in current]):
        raise ValidationFailed(
            "{tags} is not in the list of tags; pick one of the list (free tags are not allowed here).",
            field="add",
            tags=", ".join(unknown),
        )
    added = [t for t in adding if t not in current and t not in removing]
    removed = [t for t in removing if t in current]
    if not added and not removed:
        if only_missing:
            return sorted(current), offered, free
        raise ValidationFailed("The work order has these tags already (or not the ones to remove).", field="add")
    if len(current) + len(added) - len(removed) > MAX_PER_WORK_ORDER:
        raise ValidationFailed("A work order carries at most {count} tags.", field="add", count=MAX_PER_WORK_ORDER)
    uow.tags.remove_from(wo.id, removed)
    uow.tags.add_to(wo.id, added, actor_id=actor.id or 0, at=at)
    wo.record(
        WorkOrderEvent(
            kind=EventKind.TAGS_CHANGED, actor_id=actor.id or 0, at=at, data={"added": added, "removed": removed}
        )
    )
    result = sorted((set(current) | set(added)) - set(removed))
    # Searchable like the rest of the work order's text (every reader of it sees its tags).
    uow.search.put(wo.id, "tags", "", " ".join(result))
    return result, offered, free


def require_offered(ctx: Context, uow: UnitOfWork, organisation_id: int, names: Iterable[str], field: str) -> list[str]:
    """Tags a setting of this organisation will add (a macro): clean, and in the lists that apply to
    its work orders unless free tags are allowed there."""
    cleaned = clean_tags(list(names), field)
    tree = scope.tree(ctx, uow)
    if _free_allowed(tree, uow.tags.free_tags(), organisation_id):
        return cleaned
    offered = {t.name for t in uow.tags.of_organisations(tree.ancestors(organisation_id)) if t.active}
    if unknown := [t for t in cleaned if t not in offered]:
        raise ValidationFailed(
            "{tags} is not in the list of tags; pick one of the list (free tags are not allowed here).",
            field=field,
            tags=", ".join(unknown),
        )
    return cleaned
