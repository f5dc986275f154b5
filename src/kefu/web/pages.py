"""Agent pages (Jinja2 + HTMX), calling the same services as the API."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kefu.domain.checklists import template_for
from kefu.domain.errors import ConcurrentUpdate, DomainError, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.workorders import OPEN_STATUS_VALUES, Channel, Priority, Status, WorkOrderType, is_work_order_number
from kefu.http import cursors
from kefu.i18n import LOCALES, format_duration, translate_error, translations
from kefu.services import customers, visits, workspace
from kefu.services.access import accounts
from kefu.services.channels import cti, intake
from kefu.services.context import Context
from kefu.services.dispatch import hops as dispatch
from kefu.services.org import admin as org_admin
from kefu.services.org import reference
from kefu.services.ports import WorkOrderFilter
from kefu.services.workorders import commands as svc
from kefu.web import i18n_labels as labels
from kefu.web.security import LANG_COOKIE, SESSION_COOKIE, SecurityHeaders, csrf_ok, csrf_token

HERE = Path(__file__).parent
PAGE_SIZE = 50


class LoginRequired(Exception):
    pass


def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(labels=labels, locale=locale, locales=LOCALES, Status=Status)
    # JSON as people read it (Chinese as Chinese, not \u escapes); autoescaping still applies.
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return env


ENVIRONMENTS = {locale: _environment(locale) for locale in LOCALES}


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.kefu.ctx
    return ctx


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else str(request.app.state.kefu.settings.default_locale)


def page_user(request: Request) -> User:
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts.authenticate(context_of(request), token, "session") if token else None
    if user is None:
        raise LoginRequired()
    return user


TZ_COOKIE = "kefu_tz"


def user_timezone(request: Request) -> ZoneInfo:
    """The browser's timezone (kefu.js tells it in a cookie), else the centre's."""
    name = request.cookies.get(TZ_COOKIE, "")
    if name and len(name) <= 64:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, ZoneInfoNotFoundError):
            pass
    return ZoneInfo(str(request.app.state.kefu.settings.timezone))


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    locale = locale_of(request)
    env = ENVIRONMENTS[locale]
    tz = user_timezone(request)

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else ""

    def duration(minutes: int) -> str:
        return format_duration(locale, minutes)

    html = env.get_template(template).render(
        request=request,
        csrf=csrf_token(request),
        localtime=localtime,
        duration=duration,
        now=context_of(request).clock.now(),
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


def error_text(request: Request, error: DomainError) -> str:
    return translate_error(locale_of(request), error.template, error.params)


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(request, token):
        raise ValidationFailed("The form expired. Reload the page and submit it again.", field="csrf")


router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/work-orders", status_code=303)


@router.get("/lang/{locale}")
def switch_language(locale: str, request: Request) -> RedirectResponse:
    back = request.headers.get("referer") or "/ui/work-orders"
    response = RedirectResponse(back if back.startswith(str(request.base_url)) else "/ui/work-orders", 303)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=3600 * 24 * 365, samesite="lax", path="/")
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/ui/work-orders") -> HTMLResponse:
    return render(request, "login.html", next=next, error=None, username="")


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/ui/work-orders"),
) -> Response:
    try:
        check_csrf(request, csrf)
        _, token = accounts.log_in(context_of(request), username, password)
    except DomainError as exc:
        return render(request, "login.html", 401, next=next, error=error_text(request, exc), username=username)
    target = next if next.startswith("/") and not next.startswith("//") else "/ui/work-orders"
    response = RedirectResponse(target, status_code=303)
    settings = request.app.state.kefu.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
        max_age=settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and csrf_ok(request, csrf):
        accounts.log_out(context_of(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _list_filter(params: dict[str, str], now: datetime) -> tuple[WorkOrderFilter, dict[str, str]]:
    """The list filter from query parameters; bad values are dropped and reported, never a 500."""
    problems: dict[str, str] = {}
    status = params.get("status", "open")
    statuses: tuple[str, ...] = ()
    if status == "open":
        statuses = OPEN_STATUS_VALUES
    elif status in Status.__members__.values():
        statuses = (status,)
    elif status not in ("", "all"):
        problems["status"] = status

    def one(name: str, allowed: set[str]) -> tuple[str, ...]:
        value = params.get(name, "")
        if value and value not in allowed:
            problems[name] = value
            return ()
        return (value,) if value else ()

    try:
        before_id = cursors.decode(params.get("cursor"))
    except ValidationFailed:
        problems["cursor"] = params.get("cursor", "")
        before_id = None
    flt = WorkOrderFilter(
        statuses=statuses,
        priorities=one("priority", {p.value for p in Priority}),
        types=one("type", {t.value for t in WorkOrderType}),
        category=params.get("category") or None,
        owner_id=None,
        customer_id=int(params["customer"]) if params.get("customer", "").isdigit() else None,
        before_id=before_id,
    )
    within = params.get("breach_within", "")
    if within:
        if within.isdigit() and int(within) <= 60 * 24 * 30:
            flt = replace(flt, due_before=now + timedelta(minutes=int(within)))
        else:
            problems["breach_within"] = within
    return flt, problems


@router.get("/ui/work-orders")
def work_order_list(request: Request) -> Response:
    user = page_user(request)
    ctx = context_of(request)
    params = dict(request.query_params)
    number = params.get("q", "").strip().upper()
    if number and is_work_order_number(number):
        return RedirectResponse(f"/ui/work-orders/{quote(number)}", status_code=303)
    flt, bad = _list_filter(params, ctx.clock.now())
    if number:
        bad["q"] = number  # not a work-order number (GD + date + 6 digits)
    if params.get("mine") == "1":
        flt = WorkOrderFilter(**{**flt.__dict__, "owner_id": user.id})
    if queue := workspace.queue_filter(user, params.get("queue", ""), ctx.clock.now()):
        flt = replace(queue, before_id=flt.before_id, priorities=flt.priorities, types=flt.types, category=flt.category)
    elif params.get("queue"):
        bad["queue"] = params["queue"]
    error = None
    try:
        items = svc.list_work_orders(ctx, user, flt, limit=PAGE_SIZE)
    except DomainError as exc:
        items, error = [], error_text(request, exc)
    next_url = None
    if len(items) == PAGE_SIZE and items[-1].id is not None:
        next_url = "?" + urlencode({**params, "cursor": cursors.encode(items[-1].id)})
    return render(
        request,
        "list.html",
        user=user,
        items=items,
        params=params,
        next_url=next_url,
        bad=bad,
        error=error,
        queues=workspace.queues(ctx, user),
        saved=workspace.saved_filters(ctx, user),
        current_query=urlencode({k: v for k, v in params.items() if k in workspace.ALLOWED_PARAMS}),
        **category_labels(request, user),
    )


@router.post("/ui/filters")
def save_filter(request: Request, name: str = Form(""), query: str = Form(""), csrf: str = Form("")) -> Response:
    user = page_user(request)
    try:
        check_csrf(request, csrf)
        workspace.save_filter(context_of(request), user, name, query)
    except DomainError as exc:
        return render(request, "error.html", 422, user=user, error=error_text(request, exc))
    return RedirectResponse("/ui/work-orders?" + query, status_code=303)


@router.post("/ui/filters/{filter_id}/delete")
def delete_filter(request: Request, filter_id: int, csrf: str = Form("")) -> Response:
    user = page_user(request)
    try:
        check_csrf(request, csrf)
        workspace.delete_filter(context_of(request), user, filter_id)
    except DomainError as exc:
        return render(request, "error.html", 404, user=user, error=error_text(request, exc))
    return RedirectResponse("/ui/work-orders", status_code=303)


def category_labels(request: Request, user: User) -> dict[str, Any]:
    """With one read of the tree: the categories in use (for pickers) and code -> "宽带 › 无法连接"
    in the page's language for every category, retired ones included (for display)."""
    locale = locale_of(request)
    found = reference.list_categories(context_of(request), user, include_inactive=True)
    by_code = {c.code: c for c in found}
    labels = {}
    for c in found:
        parent = by_code.get(c.parent_code or "")
        labels[c.code] = f"{parent.label(locale)} › {c.label(locale)}" if parent else c.label(locale)
    return {"categories": [c for c in found if c.active], "category_labels": labels}


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
def new_work_order_form(request: Request, channel: str = "", customer_id: str = "", call_id: str = "") -> Response:
    """The registration form; `?channel=store` is the walk-in registration at a store (营业厅);
    from the screen-pop it comes with the caller and the call (its registration clock)."""
    user = page_user(request)
    form = _form_defaults()
    if channel in {c.value for c in Channel}:
        form["channel"] = channel
    form["customer_id"] = customer_id if customer_id.isdigit() else ""
    form["call_id"] = call_id[:100]
    return _new_form(request, user, form, None, None)


def _new_form(
    request: Request, user: User, form: dict[str, Any], error: str | None, field: str | None, status_code: int = 200
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
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        check_csrf(request, form.get("csrf"))
        new = _parse_new_work_order(form, context_of(request), user_timezone(request))
        if new.channel is Channel.STORE:
            work_order = intake.register_walk_in(context_of(request), user, new, store=form.get("store", ""))
        else:
            work_order, _ = svc.register_work_order(context_of(request), user, new)
    except DomainError as exc:
        field = exc.field if isinstance(exc, ValidationFailed) else None
        return _new_form(request, user, form, error_text(request, exc), field, 422)
    return RedirectResponse(f"/ui/work-orders/{work_order.number}", status_code=303)


def _parse_new_work_order(form: dict[str, str], ctx: Context, tz: ZoneInfo | None = None) -> svc.NewWorkOrder:
    def choice(name: str, enum: Any, label: str) -> Any:
        try:
            return enum(form.get(name, ""))
        except ValueError:
            raise ValidationFailed("Choose a {label}.", field=name, label=label) from None

    def number(name: str, label: str) -> int | None:
        raw = form.get(name, "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ValidationFailed("{label} must be a number.", field=name, label=label)
        return int(raw)

    customer_id = number("customer_id", "customer")
    if customer_id is None:
        raise ValidationFailed("Find and pick the customer first.", field="customer_id")
    fault_time = None
    if form.get("fault_time"):
        try:
            fault_time = datetime.fromisoformat(form["fault_time"]).replace(tzinfo=tz or ctx.timezone)
        except ValueError:
            raise ValidationFailed("The fault time is not a date and time.", field="fault_time") from None
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


@router.get("/ui/cti")
def screen_pop_page(request: Request, caller: str = "", call_id: str = "") -> Response:
    """The screen-pop: who is calling, their open work orders and last contacts; register from here.
    The call-centre client opens it with ?caller=…&call_id=… when the agent answers."""
    user = page_user(request)
    pop, error = None, None
    if caller:
        try:
            pop = cti.screen_pop(context_of(request), user, caller)
        except DomainError as exc:
            error = error_text(request, exc)
    return render(
        request,
        "screen_pop.html",
        422 if error else 200,
        user=user,
        pop=pop,
        caller=caller,
        call_id=call_id,
        error=error,
    )


@router.get("/ui/contacts/{contact_id}/attachments/{position}")
def contact_attachment(request: Request, contact_id: int, position: int) -> Response:
    user = page_user(request)
    try:
        found = customers.contact_attachment(context_of(request), user, contact_id, position)
    except DomainError as exc:
        return render(request, "error.html", 404, user=user, error=error_text(request, exc))
    quoted = quote(found.filename)
    disposition = "inline" if found.content_type.startswith("image/") else "attachment"
    return Response(
        found.content or b"",
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.get("/ui/customers/lookup")
def customer_lookup(request: Request, phone: str = "") -> Response:
    """HTMX partial: customers whose phone starts with what the agent has typed so far."""
    user = page_user(request)
    found, error = [], None
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) >= 4:
        try:
            found = customers.search_customers(
                context_of(request), user, phone=digits, name=None, before_id=None, limit=8
            )
        except DomainError as exc:
            error = error_text(request, exc)
    return render(request, "_customer_matches.html", found=found, error=error, typed=digits)


@router.get("/ui/work-orders/{number}")
def work_order_detail(request: Request, number: str, unmask: int = 0) -> Response:
    user = page_user(request)
    try:
        return detail_page(request, user, number, unmask=bool(unmask))
    except DomainError as exc:
        return render(
            request, "error.html", 404 if exc.code == "not_found" else 403, user=user, error=error_text(request, exc)
        )


def detail_page(
    request: Request, user: User, number: str, *, unmask: bool = False, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """The work-order page; after a refused action it shows the error above the current state."""
    ctx = context_of(request)
    view = svc.view_work_order(ctx, user, number, unmask=unmask)
    wo = view.work_order
    # Resolved work orders are re-opened before anyone is sent (the services refuse it as well).
    can_dispatch = (
        user.may(Permission.WORKORDER_DISPATCH) and wo.is_open and wo.status not in (Status.RESOLVED, Status.CALLBACK)
    )
    suggestions = visits.suggest_engineer(ctx, user, number) if can_dispatch else []
    return render(
        request,
        "detail.html",
        status_code,
        user=user,
        view=view,
        wo=wo,
        error=error,
        **category_labels(request, user),
        **org_names(request, user),
        can_transition=user.may(Permission.WORKORDER_TRANSITION),
        can_note=user.may(Permission.WORKORDER_NOTE),
        can_unmask=user.may(Permission.PII_VIEW),
        can_dispatch=can_dispatch,
        held={h.id for h in view.dispatches if h.is_active and dispatch.holds(user, h)},
        suggestions=suggestions,
        steps=checklist_templates(wo.category),
    )


def org_names(request: Request, user: User) -> dict[str, Any]:
    """Teams and organisations by id, for pickers and for naming the parties of hops."""
    ctx = context_of(request)
    return {
        "teams": {t.id: t for t in reference.list_teams(ctx, user)},
        "organisations": {o.id: o for o in org_admin.list_organisations(ctx, user)},
    }


def checklist_templates(category: str) -> dict[str, Any]:
    return {t.code: t for t in template_for(category)}


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
    try:
        check_csrf(request, csrf)
        try:
            target = Status(to)
        except ValueError:
            raise ValidationFailed("Choose one of the offered actions.", field="to") from None
        svc.transition_work_order(
            context_of(request),
            user,
            number,
            target,
            note=note or None,
            expected_version=int(version) if version.isdigit() else None,
        )
    except ConcurrentUpdate as exc:
        return detail_page(request, user, number, error=error_text(request, exc), status_code=409)
    except DomainError as exc:
        return detail_page(request, user, number, error=error_text(request, exc), status_code=422)
    return RedirectResponse(f"/ui/work-orders/{number}", status_code=303)


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
    try:
        check_csrf(request, csrf)
        svc.link_work_orders(
            context_of(request),
            user,
            number,
            other,
            merge=action == "merge",
            expected_version=int(version) if version.isdigit() else None,
        )
    except ConcurrentUpdate as exc:
        return detail_page(request, user, number, error=error_text(request, exc), status_code=409)
    except DomainError as exc:
        return detail_page(request, user, number, error=error_text(request, exc), status_code=422)
    return RedirectResponse(f"/ui/work-orders/{number}#timeline", status_code=303)


@router.post("/ui/work-orders/{number}/notes")
def note(
    request: Request,
    number: str,
    body: str = Form(""),
    customer_visible: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)
    try:
        check_csrf(request, csrf)
        svc.add_note(context_of(request), user, number, body, customer_visible=customer_visible == "1")
    except DomainError as exc:
        return detail_page(request, user, number, error=error_text(request, exc), status_code=422)
    return RedirectResponse(f"/ui/work-orders/{number}#timeline", status_code=303)


def install(app: FastAPI) -> None:
    from kefu.web import admin_pages, field_pages, portal_pages

    app.include_router(router)
    app.include_router(admin_pages.router)
    app.include_router(field_pages.router)
    app.include_router(portal_pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static", check_dir=False), name="static")
    app.add_middleware(SecurityHeaders, secure_cookies=app.state.kefu.settings.cookie_secure)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
