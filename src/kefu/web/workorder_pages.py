"""Work-order pages: the list with its queues and saved filters, the registration form with the
deadlines it would promise, the work-order page and the actions on it (moves, links, notes)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.audit import Unmasking
from kefu.domain.customers import Tier
from kefu.domain.errors import N_, DomainError, ValidationFailed
from kefu.domain.org import User
from kefu.domain.values import is_digits, moment, record_id
from kefu.domain.workorders import (
    Channel,
    Priority,
    Status,
    WorkOrder,
    WorkOrderType,
    is_work_order_number,
)
from kefu.http import cursors
from kefu.services import macros, tags, workspace
from kefu.services.channels import intake
from kefu.services.context import Context
from kefu.services.customers import NewCustomer
from kefu.services.org import admin as org_admin
from kefu.services.org import reference
from kefu.services.ports import WorkOrderFilter
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries
from kefu.web import list_params
from kefu.web.kit import (
    PathId,
    category_labels,
    check_csrf,
    context_of,
    detail_page,
    form_choice,
    form_fields,
    form_version,
    org_names,
    page_user,
    refused,
    render,
    run_action,
    run_work_order_action,
    user_timezone,
)

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/ui/work-orders")
def work_order_list(request: Request) -> Response:
    user = page_user(request)
    ctx = context_of(request)
    params = dict(request.query_params)
    number = params.get("q", "").strip().upper()
    if number and is_work_order_number(number):
        return RedirectResponse(f"/ui/work-orders/{quote(number)}", status_code=303)
    flt, bad = list_params.list_filter(params, ctx.clock.now(), user_timezone(request))
    if number:
        bad["q"] = number  # not a work-order number (GD + date + 6 digits)
    if params.get("mine") == "1":
        flt = WorkOrderFilter(**{**flt.__dict__, "owner_id": user.id})
    if queue := workspace.queue_filter(user, params.get("queue", ""), ctx.clock.now()):
        flt = replace(
            queue,
            before_id=flt.before_id,
            priorities=flt.priorities,
            types=flt.types,
            category=flt.category or queue.category,  # the queue's own (to classify) unless narrowed
            tag=flt.tag or queue.tag,
            sort=flt.sort,
            descending=flt.descending,
            after=flt.after,
        )
    elif params.get("queue"):
        bad["queue"] = params["queue"]
    try:
        items = queries.list_work_orders(ctx, user, flt, limit=PAGE_SIZE)
    except DomainError as exc:
        return refused(request, user, exc, partial(_list_page, request, user, params, [], bad))
    return _list_page(request, user, params, items, bad)


def _list_page(
    request: Request,
    user: User,
    params: dict[str, str],
    items: list[WorkOrder],
    bad: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    next_url = None
    sort, descending = list_params.list_sort(params, {})
    if len(items) == PAGE_SIZE and items[-1].id is not None:
        last = items[-1]
        assert last.id is not None
        cursor = (
            cursors.encode_after(sort, queries.sort_value(last, sort), last.id) if sort else cursors.encode(last.id)
        )
        next_url = "?" + urlencode({**params, "cursor": cursor})
    due_list = sort == "due" or bool(params.get("breach_within")) or params.get("queue") == "due"
    return render(
        request,
        "list.html",
        status_code,
        user=user,
        items=items,
        params=params,
        next_url=next_url,
        sort=sort,
        descending=descending,
        sorted_by=partial(list_params.sorted_by, params, sort, descending),
        due_list=due_list,
        handlers=queries.handlers_of(ctx, user, items) if due_list else {},
        vips=queries.vip_customers(ctx, user, items),
        bad=bad,
        error=error,
        queues=workspace.queues(ctx, user),
        saved=workspace.saved_filters(ctx, user),
        current_query=urlencode({k: v for k, v in params.items() if k in workspace.ALLOWED_PARAMS}),
        list_path="/ui/work-orders?" + urlencode({k: v for k, v in params.items() if k != "cursor"}),
        row_tags=tags.tags_of(ctx, user, items),
        **_bulk_choices(request, user),
        **org_names(request, user),
        **category_labels(request, user),
    )


@router.post("/ui/filters")
def save_filter(request: Request, name: str = Form(""), query: str = Form(""), csrf: str = Form("")) -> Response:
    user = page_user(request)
    return run_action(
        request,
        user,
        csrf,
        lambda ctx: workspace.save_filter(ctx, user, name, query),
        then="/ui/work-orders?" + query,
    )


@router.post("/ui/filters/{filter_id}/delete")
def delete_filter(request: Request, filter_id: PathId, csrf: str = Form("")) -> Response:
    user = page_user(request)
    return run_action(
        request, user, csrf, lambda ctx: workspace.delete_filter(ctx, user, filter_id), then="/ui/work-orders"
    )


def _form_defaults() -> dict[str, Any]:
    return {
        "channel": "hotline",
        "type": "fault",
        "customer_id": "",
        "category": "",
        "title": "",
        "description": "",
        "priority": "",
        "severity": "",
        "fault_place": "",
        "device": "",
        "store": "",
        "call_id": "",
    }


@router.get("/ui/work-orders/new")
def new_work_order_form(
    request: Request, channel: str = "", customer_id: str = "", call_id: str = "", phone: str = ""
) -> Response:
    """The registration form; `?channel=store` is the walk-in registration at a store (营业厅);
    from the screen-pop it comes with the caller, their number and the call (its registration clock)."""
    user = page_user(request)
    form = _form_defaults()
    form["phone"] = "".join(ch for ch in phone if ch.isdigit())[:20]
    if channel in {c.value for c in Channel}:
        form["channel"] = channel
    form["customer_id"] = customer_id if is_digits(customer_id) and len(customer_id) < 19 else ""
    form["call_id"] = call_id[:100]
    return _new_form(request, user, form)


def _new_form(
    request: Request,
    user: User,
    form: dict[str, Any],
    *,
    error: str | None = None,
    field: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    return render(
        request,
        "new.html",
        status_code,
        user=user,
        form=form,
        error=error,
        error_field=field,
        categories=reference.list_categories(ctx, user),
        types=list(WorkOrderType),
        channels=list(Channel),
        priorities=list(Priority),
    )


@router.post("/ui/work-orders")
async def create_work_order(request: Request) -> Response:
    user = page_user(request)
    form: dict[str, str] = _form_defaults()
    try:
        form = await form_fields(request)  # NUL refused, naming the field
        check_csrf(request, form.get("csrf"))
        caller = _caller_not_on_file(form)
        new = _parse_new_work_order(form, context_of(request), user_timezone(request), new_caller=caller is not None)
        if new.channel is Channel.STORE:
            work_order = intake.register_walk_in(
                context_of(request), user, new, store=form.get("store", ""), new_customer=caller
            )
        else:
            work_order, _ = svc.register_work_order(context_of(request), user, new, new_customer=caller)
    except DomainError as exc:
        field = exc.field if isinstance(exc, ValidationFailed) else None
        return refused(request, user, exc, partial(_new_form, request, user, form, field=field))
    return RedirectResponse(f"/ui/work-orders/{work_order.number}", status_code=303)


def _caller_not_on_file(form: dict[str, str]) -> NewCustomer | None:
    """The caller typed into the form's "not on file" fields (registered with the work order), when
    no customer was picked."""
    if form.get("customer_id", "").strip() or not form.get("new_name", "").strip():
        return None
    tier = form.get("new_tier", "")
    return NewCustomer(
        name=form["new_name"],
        phone=form.get("phone", ""),
        tier=form_choice(Tier, tier, N_("Choose a tier."), field="new_tier") if tier else None,
        region=form.get("new_region") or None,
        address=form.get("new_address") or None,
    )


def _parse_new_work_order(
    form: dict[str, str], ctx: Context, tz: ZoneInfo | None = None, *, new_caller: bool = False
) -> svc.NewWorkOrder:
    def choice(name: str, enum: Any, label: str) -> Any:
        return form_choice(enum, form.get(name, ""), N_("Choose a {label}."), field=name, label=label)

    def number(name: str, label: str) -> int | None:
        raw = form.get(name, "").strip()
        if not raw:
            return None
        if not is_digits(raw):
            raise ValidationFailed("{label} must be a number.", field=name, label=label)
        return record_id(raw, name)

    customer_id = number("customer_id", "customer")
    if customer_id is None and new_caller:
        customer_id = 0  # the caller is registered with the work order
    if customer_id is None:
        raise ValidationFailed("Find and pick the customer first.", field="customer_id")
    fault_time = None
    if form.get("fault_time"):
        fault_time = moment(form["fault_time"], "fault_time", tz or ctx.timezone)
    return svc.NewWorkOrder(
        customer_id=customer_id,
        type=choice("type", WorkOrderType, "type"),
        category=form.get("category", ""),
        channel=choice("channel", Channel, "channel"),
        title=form.get("title", ""),
        description=form.get("description", ""),
        priority=choice("priority", Priority, "priority") if form.get("priority") else None,
        severity=number("severity", "severity"),
        fault_time=fault_time,
        fault_place=form.get("fault_place") or None,
        device=form.get("device") or None,
        call_id=form.get("call_id") or None,
        customer_phone=(form.get("phone") or None) if not new_caller else None,  # the number they were found by
    )


@router.get("/ui/work-orders/promise")
def promise_preview(request: Request) -> Response:
    """HTMX partial on the registration form: the deadlines these details would get (R4)."""
    user = page_user(request)
    form = {k: str(v) for k, v in request.query_params.items()}
    # Title and text do not change a deadline; the preview needs neither to be typed yet.
    form["title"], form["description"] = form.get("title") or "-", form.get("description") or "-"
    try:
        found = svc.preview_promise(context_of(request), user, _parse_new_work_order(form, context_of(request)))
    except DomainError:
        return render(request, "_promise.html", user=user, promise=None)
    return render(request, "_promise.html", user=user, promise=found)


@router.get("/ui/work-orders/{number}")
def work_order_detail(request: Request, number: str) -> Response:
    user = page_user(request)
    try:
        return detail_page(request, user, number)
    except DomainError as exc:
        return refused(request, user, exc)


@router.post("/ui/work-orders/{number}/unmask")
def unmask(
    request: Request, number: str, reason: str = Form(""), reason_note: str = Form(""), csrf: str = Form("")
) -> Response:
    """The work-order page with its customer's personal data, for the reason chosen (R3; audited)."""
    user = page_user(request)
    try:
        check_csrf(request, csrf)
        return detail_page(request, user, number, unmask=Unmasking.asked(reason, reason_note))
    except DomainError as exc:
        return refused(request, user, exc, partial(detail_page, request, user, number))


@router.post("/ui/work-orders/{number}/transition")
def transition(
    request: Request,
    number: str,
    to: str = Form(""),
    note: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)

    def move(ctx: Context) -> None:
        target = form_choice(Status, to, N_("Choose one of the offered actions."), field="to")
        svc.transition_work_order(ctx, user, number, target, note=note or None, expected_version=form_version(version))

    return run_work_order_action(request, user, number, csrf, move)


@router.post("/ui/work-orders/{number}/links")
def link(
    request: Request,
    number: str,
    other: str = Form(""),
    action: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)
    return run_work_order_action(
        request,
        user,
        number,
        csrf,
        lambda ctx: svc.link_work_orders(
            ctx, user, number, other, merge=action == "merge", expected_version=form_version(version)
        ),
        anchor="#timeline",
    )


@router.post("/ui/work-orders/{number}/notes")
def note(
    request: Request,
    number: str,
    body: str = Form(""),
    customer_visible: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)
    return run_work_order_action(
        request,
        user,
        number,
        csrf,
        lambda ctx: svc.add_note(ctx, user, number, body, customer_visible=customer_visible == "1"),
        anchor="#timeline",
    )


def _bulk_choices(request: Request, user: User) -> dict[str, Any]:
    """What the bulk bar of the list offers: teams, people who handle work orders, moves, tags."""
    ctx = context_of(request)
    return {
        "bulk_agents": org_admin.list_agents(ctx, user),
        "bulk_moves": [s for s in Status if s is not Status.DISPATCHED and s is not Status.NEW],
        "tag_names": sorted({t.name for t in tags.list_tags(ctx, user)}),
        "bulk_macros": macros.list_macros(ctx, user, usable_only=True),
    }
