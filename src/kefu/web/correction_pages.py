"""Corrections from the pages: a work order's registered fields (the edit form on the work-order
page), the customer page with its record, history and edit form, and merging a duplicate customer
into the real one."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.customers import CUSTOMER_CORRECTABLE, Tier
from kefu.domain.errors import N_, DomainError, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.values import moment, record_id
from kefu.domain.workorders import WorkOrderType
from kefu.services import customers
from kefu.services.workorders import corrections
from kefu.web.kit import (
    PathId,
    check_csrf,
    context_of,
    form_choice,
    form_fields,
    form_version,
    page_user,
    refused,
    render,
    run_work_order_action,
    user_timezone,
)

router = APIRouter(include_in_schema=False)

#: The work order's fields the edit form sends; only those present in the form are corrected.
_WORK_ORDER_TEXTS = ("category", "title", "description", "fault_place", "device")
#: Personal data is shown masked: its inputs start empty and only what is typed changes it.
_PERSONAL = ("phone", "email", "address", "id_number")


def _work_order_changes(form: dict[str, str], request: Request) -> dict[str, object]:
    changes: dict[str, object] = {name: form[name] for name in _WORK_ORDER_TEXTS if name in form}
    if "type" in form:
        changes["type"] = form_choice(WorkOrderType, form["type"], N_("Choose a {label}."), field="type", label="type")
    if "severity" in form:
        changes["severity"] = int(form["severity"]) if form["severity"] in ("1", "2", "3", "4") else None
    if form.get("customer_id"):
        changes["customer_id"] = record_id(form["customer_id"], "customer_id")
    # Shown to the minute: only a time the agent changed is a correction (seconds stay as they were).
    if "fault_time" in form and form["fault_time"] != form.get("fault_time_was"):
        changes["fault_time"] = (
            moment(form["fault_time"], "fault_time", user_timezone(request)) if form["fault_time"] else None
        )
    return changes


@router.post("/ui/work-orders/{number}/edit")
async def edit_work_order(request: Request, number: str) -> Response:
    """The edit form of the work-order page: the fields that changed become `edited` events."""
    user = page_user(request)
    form = await form_fields(request)

    def edit(ctx: Any) -> None:
        corrections.edit_work_order(
            ctx,
            user,
            number,
            _work_order_changes(form, request),
            reason=form.get("reason") or None,
            expected_version=form_version(form.get("version", "")),
        )

    return run_work_order_action(request, user, number, form.get("csrf"), edit, anchor="#timeline")


def _customer_page(
    request: Request,
    user: User,
    customer_id: int,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    customer = customers.get_customer(ctx, user, customer_id)
    return render(
        request,
        "customer.html",
        status_code,
        user=user,
        c=customer,
        history=customers.customer_history(ctx, user, customer_id),
        timeline=customers.customer_timeline(ctx, user, customer_id, limit=50),
        can_edit=user.may(Permission.CUSTOMER_CREATE) and customer.merged_into_id is None,
        tiers=list(Tier),
        form=form or {},
        error=error,
    )


@router.get("/ui/customers/{customer_id}")
def customer_page(request: Request, customer_id: PathId) -> Response:
    """A customer's record (masked), its corrections, its work orders and contacts."""
    user = page_user(request)
    try:
        return _customer_page(request, user, customer_id)
    except DomainError as exc:
        return refused(request, user, exc)


@router.post("/ui/customers/{customer_id}/edit")
async def edit_customer(request: Request, customer_id: PathId) -> Response:
    user = page_user(request)
    form = await form_fields(request)
    changes: dict[str, object] = {}
    for name in CUSTOMER_CORRECTABLE:
        if name not in form or (name in _PERSONAL and not form[name]):
            continue
        value = form[name]
        changes[name] = [v for v in value.replace("，", ",").split(",")] if name in ("services", "tags") else value
    try:
        check_csrf(request, form.get("csrf"))
        customers.edit_customer(context_of(request), user, customer_id, changes, reason=form.get("reason") or None)
    except DomainError as exc:
        return refused(request, user, exc, partial(_customer_page, request, user, customer_id, form=form))
    return RedirectResponse(f"/ui/customers/{customer_id}#history", status_code=303)


@router.post("/ui/customers/{customer_id}/merge")
async def merge_customer(request: Request, customer_id: PathId) -> Response:
    """Merge the duplicate record named in the form into this customer."""
    user = page_user(request)
    form = await form_fields(request)
    try:
        check_csrf(request, form.get("csrf"))
        merged = _duplicate(request, user, customer_id, form.get("merged_id", ""))
        customers.merge_customers(context_of(request), user, customer_id, merged, reason=form.get("reason") or None)
    except DomainError as exc:
        return refused(request, user, exc, partial(_customer_page, request, user, customer_id, form=form))
    return RedirectResponse(f"/ui/customers/{customer_id}#history", status_code=303)


def _duplicate(request: Request, user: User, customer_id: int, typed: str) -> int:
    """The duplicate record the merge form names: by its customer ID, or by its whole phone number
    (what an agent has in front of them: the number the SMS came from)."""
    phone = customers.whole_phone("".join(ch for ch in typed if ch in "0123456789"))
    if phone is None:
        return record_id(typed, "merged_id")
    found = [
        c.id
        for c in customers.search_customers(context_of(request), user, phone=phone, name=None, before_id=None, limit=5)
        if c.id is not None and c.id != customer_id
    ]
    if not found:
        raise ValidationFailed("No other customer has the phone number {phone}.", field="merged_id", phone=typed)
    if len(found) > 1:
        raise ValidationFailed(
            "Several customers have that phone number: give the customer ID of the duplicate ({ids}).",
            field="merged_id",
            ids=", ".join(str(i) for i in found),
        )
    return found[0]
