"""Macros on the pages: the administration's macros section (a section of admin_pages, declared
here), and applying one from the work-order page (the list's bulk bar applies one to many work
orders through tag_pages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, Response

from kefu.domain.errors import N_
from kefu.domain.macros import Macro
from kefu.domain.org import User
from kefu.domain.values import whole_number
from kefu.domain.workorders import Priority, Status
from kefu.services import canned_replies, macros, tags
from kefu.services.context import Context
from kefu.web import admin_pages as admin
from kefu.web.kit import context_of, form_choice, form_version, org_names, page_user, run_work_order_action

router = APIRouter(include_in_schema=False)


@router.post("/ui/work-orders/{number}/macro")
def apply_macro(
    request: Request, number: str, macro_id: str = Form(""), version: str = Form(""), csrf: str = Form("")
) -> Response:
    user = page_user(request)

    def act(ctx: Context) -> None:
        chosen = whole_number(macro_id, "macro_id", low=1)
        macros.apply_macro(ctx, user, number, chosen, expected_version=form_version(version))

    return run_work_order_action(request, user, number, csrf, act, anchor="#timeline")


# --- the administration: macros are kept here -------------------------------------------------------


def _optional_id(form: dict[str, str], field: str) -> int | None:
    return whole_number(form[field], field, low=1) if form.get(field) else None


@admin.section("macros")
def macro_section(request: Request, user: User) -> dict[str, Any]:
    ctx = context_of(request)
    return {
        **org_names(request, user),
        "macros": macros.list_macros(ctx, user),
        "canned": canned_replies.list_canned_replies(ctx, user),
        "known_tags": tags.list_tags(ctx, user),
        "priorities": list(Priority),
        # Where a macro may move a work order to: not back to new, never dispatched (that needs a receiver).
        "statuses": [s for s in Status if s not in (Status.NEW, Status.DISPATCHED)],
    }


def _macro(form: dict[str, str], macro_id: int | None) -> Macro:
    priority, status = form.get("priority", ""), form.get("status", "")
    return Macro(
        id=macro_id,
        organisation_id=whole_number(form.get("organisation_id", ""), "organisation_id"),
        name=form.get("name", ""),
        reply_template=form.get("reply_template") or None,
        tags=tuple(t.strip() for t in form.get("tags", "").replace("，", ",").split(",") if t.strip()),
        priority=form_choice(Priority, priority, N_("Choose a priority."), field="priority") if priority else None,
        team_id=_optional_id(form, "team_id"),
        status=form_choice(Status, status, N_("Choose a status."), field="status") if status else None,
        note=form.get("note") or None,
        active=form.get("active", "1") == "1",
    )


@admin.change("macro", back_to="macros")
def save_macro(ctx: Context, user: User, form: dict[str, str]) -> None:
    macros.save_macro(ctx, user, _macro(form, _optional_id(form, "macro_id")))


@admin.change("macro-active", back_to="macros")
def switch_macro(ctx: Context, user: User, form: dict[str, str]) -> None:
    macros.set_macro_active(ctx, user, whole_number(form.get("macro_id", ""), "macro_id"), form.get("active") == "1")
