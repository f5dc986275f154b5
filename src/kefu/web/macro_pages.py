"""Applying a macro from the work-order page (the macros themselves are kept in admin_pages; the
list's bulk bar applies one to many work orders through tag_pages)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response

from kefu.domain.values import whole_number
from kefu.services import macros
from kefu.services.context import Context
from kefu.web.kit import form_version, page_user, run_work_order_action

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
