"""Bulk actions on a selection of work orders (issue #12, part 7): the same use case run for each
work order on its own — its own transaction, permission and data-scope check — so that one refusal
undoes nothing else, and a result per work order says which succeeded and why the others did not.

An action kind is one entry of ACTIONS: how its parameters are read (checked once, before any work
order is touched) and which use case runs for one work order. "Apply a macro" joins the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kefu.domain.errors import N_, DomainError, NotFound, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.tags import clean_tags
from kefu.domain.values import MAX_ID
from kefu.domain.workorders import Status, is_work_order_number
from kefu.services import macros, tags
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.dispatch import routing
from kefu.services.workorders import commands

MAX_ITEMS = 200

#: One work order's change: (ctx, actor, number, checked parameters, expected version) -> new version.
Run = Callable[[Context, User, str, Mapping[str, Any], int | None], int]


@dataclass(frozen=True)
class BulkAction:
    permission: Permission  # checked once for the request (403), and again per work order by the use case
    parse: Callable[[Mapping[str, Any]], dict[str, Any]]  # ValidationFailed names the parameter
    run: Run


def _id(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValidationFailed("{name} must be a record id.", field=name, name=name)
    return value


def _text(params: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ValidationFailed("{name} must be text of at most {limit} characters.", field=name, name=name, limit=limit)
    return value.strip() or None


def _parse_assign(params: Mapping[str, Any]) -> dict[str, Any]:
    team_id, handler_id = _id(params, "team_id"), _id(params, "handler_id")
    if team_id is None and handler_id is None:
        raise ValidationFailed("Name a team, a person or both.", field="handler_id")
    return {"team_id": team_id, "handler_id": handler_id, "reason": _text(params, "reason", 1000)}


def _run_assign(ctx: Context, actor: User, number: str, p: Mapping[str, Any], version: int | None) -> int:
    return routing.assign_work_order(
        ctx,
        actor,
        number,
        team_id=p["team_id"],
        handler_id=p["handler_id"],
        reason=p["reason"],
        expected_version=version,
    ).version


def _parse_move(params: Mapping[str, Any]) -> dict[str, Any]:
    try:
        to = Status(str(params.get("to") or ""))
    except ValueError:
        raise ValidationFailed("Choose one of the offered actions.", field="to") from None
    return {"to": to, "note": _text(params, "note", 10_000)}


def _run_move(ctx: Context, actor: User, number: str, p: Mapping[str, Any], version: int | None) -> int:
    return commands.transition_work_order(ctx, actor, number, p["to"], note=p["note"], expected_version=version).version


def _tag_list(params: Mapping[str, Any], name: str) -> list[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed("{name} must be a list of tags.", field=name, name=name)
    return clean_tags(value, name)


def _parse_tag(params: Mapping[str, Any]) -> dict[str, Any]:
    add, remove = _tag_list(params, "add"), _tag_list(params, "remove")
    if not add and not remove:
        raise ValidationFailed("Name a tag to add or to remove.", field="add")
    return {"add": add, "remove": remove}


def _run_tag(ctx: Context, actor: User, number: str, p: Mapping[str, Any], version: int | None) -> int:
    return tags.change_tags(ctx, actor, number, add=p["add"], remove=p["remove"], expected_version=version).version


def _parse_macro(params: Mapping[str, Any]) -> dict[str, Any]:
    macro_id = _id(params, "macro_id")
    if macro_id is None:
        raise ValidationFailed("Choose a macro.", field="macro_id")
    return {"macro_id": macro_id}


def _run_macro(ctx: Context, actor: User, number: str, p: Mapping[str, Any], version: int | None) -> int:
    return macros.apply_macro(ctx, actor, number, p["macro_id"], expected_version=version).version


ACTIONS: dict[str, BulkAction] = {
    "assign": BulkAction(Permission.WORKORDER_DISPATCH, _parse_assign, _run_assign),
    "move": BulkAction(Permission.WORKORDER_TRANSITION, _parse_move, _run_move),
    "tag": BulkAction(Permission.WORKORDER_TRANSITION, _parse_tag, _run_tag),
    "macro": BulkAction(Permission.WORKORDER_TRANSITION, _parse_macro, _run_macro),
}


@dataclass(frozen=True)
class Item:
    number: str
    version: int | None = None  # the version the selection was made from (If-Match for this one)


@dataclass(frozen=True)
class ItemResult:
    number: str
    ok: bool
    version: int | None = None  # after the change
    error: DomainError | None = None


def run_bulk(ctx: Context, actor: User, kind: str, params: Mapping[str, Any], items: list[Item]) -> list[ItemResult]:
    """Run action `kind` for each work order, in the order given (a number listed twice counts once).
    The request as a whole is refused (nothing done) for an unknown kind, bad parameters, no work
    orders or more than MAX_ITEMS, or a role without the action's permission; each work order's own
    refusal (not found or out of scope, not allowed in its state, changed since it was selected …)
    is its result."""
    action = ACTIONS.get(kind)
    if action is None:
        raise ValidationFailed(
            "Unknown bulk action {kind}; one of: {kinds}.", field="action", kind=kind[:40], kinds=", ".join(ACTIONS)
        )
    if not items:
        raise ValidationFailed("Select at least one work order.", field="items")
    if len(items) > MAX_ITEMS:
        raise ValidationFailed("At most {count} work orders at a time.", field="items", count=MAX_ITEMS)
    require(actor, action.permission)
    checked = action.parse(params)
    results: list[ItemResult] = []
    seen: set[str] = set()
    for item in items:
        number = item.number.strip().upper()
        if number in seen:
            continue
        seen.add(number)
        try:
            if not is_work_order_number(number):
                raise NotFound(kind=N_("Work order"), key=number[:40])
            version = action.run(ctx, actor, number, checked, item.version)
        except DomainError as exc:
            results.append(ItemResult(number[:40], False, error=exc))
        else:
            results.append(ItemResult(number, True, version=version))
    return results
