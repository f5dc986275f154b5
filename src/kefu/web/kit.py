"""The page toolkit every page module uses: rendering in the reader's language and timezone, the
request's context and signed-in user, the CSRF check, error texts and the one answer to a refused
request (refused), the one way a form makes a change (run_action, run_work_order_action), and what
several pages show (category and organisation names, checklist templates, the work-order page
itself)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Path as FastApiPath
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile

from kefu.domain.audit import Unmasking, UnmaskReason
from kefu.domain.checklists import template_for
from kefu.domain.errors import DomainError, ValidationFailed
from kefu.domain.org import SYSTEM_USERNAME, Permission, User
from kefu.domain.values import MAX_ID, plain_text, whole_number
from kefu.domain.workorders import Status
from kefu.http.errors import retry_after, status_for
from kefu.http.uploads import read_upload
from kefu.i18n import LOCALES, format_duration, gettext, translate_error, translations
from kefu.services import attachments, macros, replies, tags, visits
from kefu.services.access import sessions
from kefu.services.access.sessions import Stage
from kefu.services.context import Context
from kefu.services.dispatch import hops as dispatch
from kefu.services.org import admin as org_admin
from kefu.services.org import reference
from kefu.services.workorders import queries
from kefu.web import i18n_labels as labels
from kefu.web.security import LANG_COOKIE, SESSION_COOKIE, csrf_ok, csrf_token

TEMPLATES = Path(__file__).parent / "templates"
E = TypeVar("E", bound=Enum)
#: A database id in a page's path: 64-bit, so anything larger is bad input (422), not a crash.
PathId = Annotated[int, FastApiPath(gt=0, le=MAX_ID)]
#: A database id in a page's query, when given.
QueryId = Annotated[int | None, Query(gt=0, le=MAX_ID)]
TZ_COOKIE = "kefu_tz"


class LoginRequired(Exception):
    """Raised by page_user without a valid session; the app answers with the login page."""


class LoginStepDue(Exception):
    """Raised by page_user for a session half-way through its login; the app answers with the page
    of the step due, and nothing else opens until it is done."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage.value)
        self.stage = stage


#: The page of each login step.
STEP_PAGES = {
    Stage.SECOND_FACTOR: "/login/code",
    Stage.NEW_PASSWORD: "/ui/account/password",
    Stage.ENROL: "/ui/account/two-factor",
}


def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(labels=labels, locale=locale, locales=LOCALES, Status=Status)
    env.globals["person_name"] = lambda people, person_id: shown_person(locale, people, person_id)
    # JSON as people read it (Chinese as Chinese, not \u escapes); autoescaping still applies.
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    env.filters["in_language"] = lambda name: in_language(str(name or ""), locale)
    return env


def in_language(name: str, locale: str) -> str:
    """A name kept in both languages ("默认 48小时 / Default 48 h", as the shipped SLA policies are) in
    the page's language; any other name as it is."""
    zh, sep, en = name.partition(" / ")
    if not sep:
        return name
    return en.strip() if locale == "en" else zh.strip()


def shown_person(locale: str, people: Mapping[int, User], person_id: int | None) -> str:
    """A person's name on a page: the system account reads as "System" in the page's language."""
    if person_id is None:
        return ""
    found = people.get(person_id)
    if found is None:
        return str(person_id)
    if found.username == SYSTEM_USERNAME:
        return gettext(locale, labels.SYSTEM_ACCOUNT)
    return found.display_name


ENVIRONMENTS = {locale: _environment(locale) for locale in LOCALES}


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.kefu.ctx
    return ctx


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else str(request.app.state.kefu.settings.default_locale)


def page_user(request: Request, *, touch: bool = True) -> User:
    """The user of the request's complete session (LoginRequired, LoginStepDue otherwise);
    `touch=False` for what a page asks by itself (polling), which keeps no idle session alive."""
    return signed_in(request, touch=touch).user


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: int
    step: Stage | None  # the login step the session waits at (None: complete)


def signed_in(request: Request, *, step: Stage | None = None, touch: bool = True) -> SignedIn:
    """The request's session: a complete one, or one waiting at `step` (the page of that step asks)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    ctx = context_of(request)
    if (access := sessions.current(ctx, token, touch=touch)) is not None:
        return SignedIn(access.user, access.token_id, None)
    if (waiting := sessions.pending(ctx, token)) is None:
        raise LoginRequired()
    if waiting.stage is not step:
        raise LoginStepDue(waiting.stage)
    return SignedIn(waiting.user, waiting.session_id, waiting.stage)


def local_address(next: str) -> str:
    """Where to go after a login step: only addresses on this site are followed."""
    return next if next.startswith("/") and not next.startswith("//") else "/ui/work-orders"


def after_login_step(request: Request, token: str, next: str) -> str:
    """The page of the login step still due for the session `token` opens, or `next` when none is."""
    waiting = sessions.pending(context_of(request), token)
    target = local_address(next)
    return STEP_PAGES[waiting.stage] + "?" + urlencode({"next": target}) if waiting else target


def check_typed_twice(password: str, repeat: str) -> None:
    if password != repeat:
        raise ValidationFailed("The two passwords differ.", field="repeat")


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
        password_min=context_of(request).accounts.password_min_length,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


def error_text(request: Request, error: DomainError) -> str:
    return translate_error(locale_of(request), error.template, error.params)


class Redisplay(Protocol):
    """The form or page a request came from, shown again with the error above it."""

    def __call__(self, *, error: str, status_code: int) -> Response: ...


def refused(request: Request, user: User | None, error: DomainError, redisplay: Redisplay | None = None) -> Response:
    """The one answer to a request the services refused, with the status code the API gives for the
    same error (kefu.http.errors): the form or page it came from again, with the error above it and
    what was typed kept; or the error page when there is nothing to show again, or when that cannot
    be shown either (the work order does not exist, or is not this user's to see)."""
    if redisplay is not None:
        try:
            response = redisplay(error=error_text(request, error), status_code=status_for(error))
        except DomainError as again:
            error = again
        else:
            response.headers.update(retry_after(error))
            return response
    response = render(request, "error.html", status_for(error), user=user, error=error_text(request, error))
    response.headers.update(retry_after(error))
    return response


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields, trimmed; a NUL character in any of them is refused,
    naming the field (files are not text fields and come back empty)."""
    form = await request.form()
    return {key: plain_text(value.strip() if isinstance(value, str) else "", key) for key, value in form.items()}


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(request, token):
        raise ValidationFailed("The form expired. Reload the page and submit it again.", field="csrf")


def form_choice(choices: type[E], value: str, message: str, *, field: str, **params: Any) -> E:
    """The member of `choices` a form's select or radio sent; `message` (a msgid) when it is none."""
    try:
        return choices(value)
    except ValueError:
        raise ValidationFailed(message, field=field, **params) from None


def form_version(value: str) -> int | None:
    """The version a form sends back with a change (what If-Match is to the API); None without one."""
    return whole_number(value, "version", low=1) if value.strip() else None


def run_action(
    request: Request,
    user: User | None,
    csrf: str | None,
    action: Callable[[Context], object],
    *,
    then: str,
    redisplay: Redisplay | None = None,
) -> Response:
    """A form that changes something: the CSRF check, then `action` (reading the form and calling
    one service); then the browser goes to `then` (303), or, when refused, the page it came from is
    shown again with the error (`redisplay`; see refused)."""
    try:
        check_csrf(request, csrf)
        action(context_of(request))
    except DomainError as exc:
        return refused(request, user, exc, redisplay)
    return RedirectResponse(then, status_code=303)


def run_work_order_action(
    request: Request,
    user: User,
    number: str,
    csrf: str | None,
    action: Callable[[Context], object],
    *,
    anchor: str = "",
) -> Response:
    """A form on the work-order page (run_action): back to the page, at `anchor`; when refused, the
    page again with the error above its current state."""
    return run_action(
        request,
        user,
        csrf,
        action,
        then=f"/ui/work-orders/{number}{anchor}",
        redisplay=partial(detail_page, request, user, number),
    )


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


def org_names(request: Request, user: User) -> dict[str, Any]:
    """Teams and organisations by id, for pickers and for naming the parties of hops."""
    ctx = context_of(request)
    return {
        "teams": {t.id: t for t in reference.list_teams(ctx, user)},
        "organisations": {o.id: o for o in org_admin.list_organisations(ctx, user)},
    }


def checklist_templates(category: str) -> dict[str, Any]:
    return {t.code: t for t in template_for(category)}


def detail_page(
    request: Request,
    user: User,
    number: str,
    *,
    unmask: Unmasking | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The work-order page; after a refused action it shows the error above the current state.
    Here, not with the work-order routes, because the dispatch and field-service forms on it
    come back to it too. With `unmask`, the customer's personal data shows (and no cache keeps it)."""
    ctx = context_of(request)
    view = queries.view_work_order(ctx, user, number, unmask=unmask)
    wo = view.work_order
    # Resolved work orders are re-opened before anyone is sent (the services refuse it as well).
    can_dispatch = user.may(Permission.WORKORDER_DISPATCH) and wo.is_dispatchable
    suggestions = visits.suggest_engineer(ctx, user, number) if can_dispatch else []
    form = replies.reply_form(ctx, user, number, locale=locale_of(request))
    page = render(
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
        unmask_reasons=list(UnmaskReason),
        can_dispatch=can_dispatch,
        held={h.id for h in view.dispatches if h.is_active and dispatch.holds(user, h)},
        suggestions=suggestions,
        steps=checklist_templates(wo.category),
        tag_info=tags.work_order_tags(ctx, user, number),
        usable_macros=[m for m, _ in macros.list_macros(ctx, user, usable_only=True)] if wo.is_open else [],
        files=attachments.list_files(ctx, user, number),
        max_mb=ctx.max_attachment_bytes // 2**20,
        reply_form=form,
        replies=replies.list_replies(ctx, user, number),
        can_reply=form.allowed and user.may(Permission.WORKORDER_TRANSITION),
    )
    if unmask is not None:
        page.headers["Cache-Control"] = "no-store"
    return page


async def uploaded(request: Request, max_bytes: int) -> tuple[str | None, str | None, bytes | None, dict[str, str]]:
    """The form's file — its name, type and contents, None without one — read within `max_bytes`
    (AttachmentTooLarge over it), and its text fields (a NUL in one is refused)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if any("\x00" in v for v in fields.values()):
        raise ValidationFailed("Text must not contain NUL (\\x00) characters.", field="file")
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return None, None, None, fields
    return file.filename, file.content_type, await read_upload(file, max_bytes), fields
