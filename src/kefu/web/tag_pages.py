"""Tags and bulk actions on the pages (issue #12, part 7): the tags form of the work-order page and
the bulk actions on the work orders selected in the list, with a result for each. (The tags section
of the administration is in admin_pages; the list's bulk bar in workorder_pages.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, Response

from kefu.domain.errors import DomainError, ValidationFailed
from kefu.domain.values import whole_number
from kefu.http.errors import status_for
from kefu.services import bulk, tags
from kefu.services.context import Context
from kefu.web.kit import (
    check_csrf,
    context_of,
    error_text,
    form_fields,
    form_version,
    page_user,
    refused,
    render,
    run_work_order_action,
)

router = APIRouter(include_in_schema=False)


def _id(value: str, field: str) -> int:
    return whole_number(value, field, low=1)


# --- the work-order page ----------------------------------------------------------------------------


@router.post("/ui/work-orders/{number}/tags")
def change_tags(
    request: Request,
    number: str,
    add: str = Form(""),
    remove: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Add the tags typed (several separated by commas) or remove the one whose × was pressed."""
    user = page_user(request)

    def act(ctx: Context) -> None:
        adding = [t for t in add.replace("，", ",").split(",") if t.strip()]
        removing = [remove] if remove else []
        tags.change_tags(ctx, user, number, add=adding, remove=removing, expected_version=form_version(version))

    return run_work_order_action(request, user, number, csrf, act, anchor="#tags")


# --- bulk actions on the list -------------------------------------------------------------------------


def _items(values: list[str]) -> list[bulk.Item]:
    """The checkboxes' values: "number:version"."""
    found = []
    for value in values:
        number, _, version = value.partition(":")
        found.append(bulk.Item(number, form_version(version) if version else None))
    return found


def _params(kind: str, form: dict[str, str]) -> dict[str, Any]:
    if kind == "assign":
        team, handler = form.get("team_id", ""), form.get("handler_id", "")
        return {
            "team_id": _id(team, "team_id") if team else None,
            "handler_id": _id(handler, "handler_id") if handler else None,
            "reason": form.get("reason") or None,
        }
    if kind == "move":
        return {"to": form.get("to", ""), "note": form.get("note") or None}
    if kind == "tag":
        names = [t for t in form.get("tag", "").replace("，", ",").split(",") if t.strip()]
        return {"add": names} if form.get("tag_mode", "add") == "add" else {"remove": names}
    if kind == "macro":
        macro = form.get("macro_id", "")
        return {"macro_id": _id(macro, "macro_id") if macro else None}
    return {}


@router.post("/ui/work-orders/bulk")
async def bulk_action(request: Request) -> Response:
    user = page_user(request)
    ctx = context_of(request)
    form = await form_fields(request)
    selected = (await request.form()).getlist("items")
    kind = form.get("action", "")
    try:
        check_csrf(request, form.get("csrf"))
        if len(selected) > bulk.MAX_ITEMS:
            raise ValidationFailed("At most {count} work orders at a time.", field="items", count=bulk.MAX_ITEMS)
        results = bulk.run_bulk(
            ctx, user, kind, _params(kind, form), _items([str(v) for v in selected if isinstance(v, str)])
        )
    except DomainError as exc:
        return refused(request, user, exc)
    shown = [
        {
            "number": r.number,
            "ok": r.ok,
            "status": status_for(r.error) if r.error else None,
            "error": error_text(request, r.error) if r.error else None,
        }
        for r in results
    ]
    return render(
        request,
        "bulk_result.html",
        user=user,
        action=kind,
        results=shown,
        succeeded=sum(1 for r in results if r.ok),
        failed=sum(1 for r in results if not r.ok),
        back=_back(form.get("back", "")),
    )


def _back(path: str) -> str:
    """Back to the list as it was (a path of the list only)."""
    return path if path.startswith("/ui/work-orders") and "//" not in path and "\\" not in path else "/ui/work-orders"
