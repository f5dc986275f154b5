"""My account (R32): changing one's password, two-factor login (enrolment with a QR code, recovery
codes), one's sessions and API tokens; and, for administrators, the same about a user they manage
(a password-reset code to hand over, resetting the second factor, ending sessions, revoking tokens).

The password and two-factor pages are also login steps (kefu.services.access.sessions.Stage): a
session waiting at one opens that page and nothing else, shown without the navigation."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from kefu.domain.errors import DomainError, ValidationFailed
from kefu.domain.notifications import KIND_LABELS, CopyChannel, NotificationKind
from kefu.domain.values import whole_number
from kefu.services.access import accounts, passwords, sessions, tokens, two_factor
from kefu.services.access.sessions import Stage
from kefu.services.context import Context
from kefu.services.notifications import inbox
from kefu.web.kit import (
    PathId,
    SignedIn,
    after_login_step,
    check_csrf,
    check_typed_twice,
    context_of,
    form_fields,
    local_address,
    page_user,
    refused,
    render,
    run_action,
    signed_in,
)
from kefu.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)

#: The tabs of My account, in order: (address, what it is called).
TABS = ("password", "two-factor", "sessions", "tokens", "notifications")


def _token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def _page(
    request: Request,
    who: SignedIn,
    tab: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    next: str = "/ui/work-orders",
    **values: Any,
) -> Response:
    """A tab of My account; during a login step without the navigation (nothing else opens yet)."""
    ctx = context_of(request)
    shown: dict[str, Any] = {}
    if tab == "two-factor" and "codes" not in values:
        status = two_factor.status(ctx, who.user)
        shown["status"] = status
        if status.enabled_at is None:
            enrolment = two_factor.begin_enrolment(ctx, who.user)
            shown["secret"] = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
            shown["qr"] = _qr(enrolment.uri)
    elif tab == "sessions":
        shown["sessions"] = sessions.list_sessions(ctx, who.user)
    elif tab == "tokens":
        shown["tokens"] = tokens.list_api_tokens(ctx, who.user)
        shown["max_days"] = ctx.accounts.token_max_lifetime.days
        shown["default_days"] = ctx.accounts.token_lifetime.days
    elif tab == "notifications":
        shown["copies"] = inbox.copy_settings(ctx, who.user)
        shown["kinds"] = [(k, KIND_LABELS[k]) for k in NotificationKind]
        shown["channels"] = list(CopyChannel)
    return render(
        request,
        "account.html",
        status_code,
        user=None if who.step else who.user,
        me=who.user,
        step=who.step,
        session_id=who.session_id,
        tab=tab,
        tabs=TABS,
        error=error,
        next=local_address(next),
        device=device,
        **shown,
        **values,
    )


def _qr(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code: drawn here, no image service, no network."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#102a43", light="#ffffff", title="kefu TOTP")
    return Markup(svg)  # noqa: S704 - segno's own SVG of our own URI


#: (what the User-Agent header says, what to call it), the first match winning.
_BROWSERS = [
    ("MicroMessenger", "WeChat"),
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python", "Python"),
]
_SYSTEMS = [
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def device(user_agent: str | None) -> str:
    """ "Chrome · Windows" from a User-Agent header (the sessions page; the full header is its title)."""
    ua = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in ua), "")
    system = next((name for mark, name in _SYSTEMS if mark in ua), "")
    return " · ".join(part for part in (browser, system) if part) or (ua[:40] if ua else "—")


def _act(request: Request, csrf: str, tab: str, act: Callable[[Context, SignedIn], object]) -> Response:
    """Make a change from a tab of My account, then show that tab again (with the error, if refused)."""
    who = signed_in(request)
    return run_action(
        request,
        who.user,
        csrf,
        lambda ctx: act(ctx, who),
        then=f"/ui/account/{tab}",
        redisplay=partial(_page, request, who, tab),
    )


@router.get("/ui/account")
def account(request: Request) -> RedirectResponse:
    page_user(request)
    return RedirectResponse("/ui/account/password", status_code=303)


# --- password ---------------------------------------------------------------------------------


@router.get("/ui/account/password")
def password_page(request: Request, next: str = "/ui/work-orders", done: str = "") -> Response:
    who = signed_in(request, step=Stage.NEW_PASSWORD)
    return _page(request, who, "password", next=next, done=done == "1")


@router.post("/ui/account/password")
def change_password(
    request: Request,
    current_password: str = Form(""),
    password: str = Form(""),
    repeat: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/ui/work-orders"),
) -> Response:
    who = signed_in(request, step=Stage.NEW_PASSWORD)
    try:
        check_csrf(request, csrf)
        check_typed_twice(password, repeat)
        passwords.change_password(
            context_of(request), who.user, current_password, password, keep_session=_token(request)
        )
    except DomainError as exc:
        return refused(request, who.user, exc, partial(_page, request, who, "password", next=next))
    if who.step:
        return RedirectResponse(after_login_step(request, _token(request), next), status_code=303)
    return RedirectResponse("/ui/account/password?done=1", status_code=303)


# --- two-factor login -------------------------------------------------------------------------


@router.get("/ui/account/two-factor")
def two_factor_page(request: Request, next: str = "/ui/work-orders") -> Response:
    who = signed_in(request, step=Stage.ENROL)
    try:
        return _page(request, who, "two-factor", next=next)
    except DomainError as exc:
        return refused(request, who.user, exc)


@router.post("/ui/account/two-factor/confirm")
def confirm_two_factor(
    request: Request, code: str = Form(""), csrf: str = Form(""), next: str = Form("/ui/work-orders")
) -> Response:
    """The first code from the authenticator turns two-factor login on; the recovery codes are shown
    in the answer, this once."""
    who = signed_in(request, step=Stage.ENROL)
    try:
        check_csrf(request, csrf)
        codes = two_factor.confirm_enrolment(context_of(request), who.user, code, session_token=_token(request))
    except DomainError as exc:
        return refused(request, who.user, exc, partial(_page, request, who, "two-factor", next=next))
    still = sessions.pending(context_of(request), _token(request))
    done = SignedIn(who.user, who.session_id, still.stage if still else None)
    after = after_login_step(request, _token(request), next)
    return _page(request, done, "two-factor", codes=codes, after=after, next=next)


@router.post("/ui/account/two-factor/recovery-codes")
def renew_recovery_codes(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    who = signed_in(request)
    try:
        check_csrf(request, csrf)
        codes = two_factor.renew_recovery_codes(context_of(request), who.user, code)
    except DomainError as exc:
        return refused(request, who.user, exc, partial(_page, request, who, "two-factor"))
    return _page(request, who, "two-factor", codes=codes, after="/ui/account/two-factor")


@router.post("/ui/account/two-factor/off")
def turn_off_two_factor(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    return _act(request, csrf, "two-factor", lambda ctx, who: two_factor.turn_off(ctx, who.user, code))


# --- sessions ---------------------------------------------------------------------------------


@router.get("/ui/account/sessions")
def sessions_page(request: Request) -> Response:
    return _page(request, signed_in(request), "sessions")


@router.post("/ui/account/sessions/{session_id}/end")
def end_session(request: Request, session_id: PathId, csrf: str = Form("")) -> Response:
    return _act(request, csrf, "sessions", lambda ctx, who: sessions.end_session(ctx, who.user, session_id))


@router.post("/ui/account/sessions/end-others")
def end_other_sessions(request: Request, csrf: str = Form("")) -> Response:
    return _act(
        request,
        csrf,
        "sessions",
        lambda ctx, who: sessions.end_other_sessions(ctx, who.user, keeping=_token(request)),
    )


# --- API tokens -------------------------------------------------------------------------------


@router.get("/ui/account/tokens")
def tokens_page(request: Request) -> Response:
    return _page(request, signed_in(request), "tokens")


@router.post("/ui/account/tokens")
def create_token(
    request: Request,
    name: str = Form(""),
    days: str = Form(""),
    read_only: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """A new token, shown in the answer this once."""
    who = signed_in(request)
    try:
        check_csrf(request, csrf)
        issued = tokens.create_api_token(
            context_of(request),
            who.user.username,
            name=name,
            days=whole_number(days, "days") if days.strip() else None,
            read_only=bool(read_only),
            actor=who.user,
        )
    except DomainError as exc:
        return refused(
            request, who.user, exc, partial(_page, request, who, "tokens", form={"name": name, "days": days})
        )
    return _page(request, who, "tokens", issued=issued)


@router.post("/ui/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: PathId, csrf: str = Form("")) -> Response:
    return _act(request, csrf, "tokens", lambda ctx, who: tokens.revoke_api_token(ctx, who.user, token_id))


# --- a user's access, for the administrators who manage them ----------------------------------


def _user_page(
    request: Request, user_id: int, *, error: str | None = None, status_code: int = 200, **values: Any
) -> Response:
    actor = page_user(request)
    ctx = context_of(request)
    target = accounts.managed_user(ctx, actor, user_id)
    return render(
        request,
        "user_security.html",
        status_code,
        user=actor,
        target=target,
        status=two_factor.status(ctx, actor, user_id=user_id),
        sessions=sessions.list_sessions(ctx, actor, user_id=user_id),
        tokens=tokens.list_api_tokens(ctx, actor, user_id=user_id),
        device=device,
        error=error,
        **values,
    )


def _user_change(request: Request, target: int, csrf: str, change: Any, **after: Any) -> Response:
    """Make `change(ctx, actor, id)` and show the user's page again (with what it returned, as `after`)."""
    actor = page_user(request)
    try:
        check_csrf(request, csrf)
        made = change(context_of(request), actor, target)
    except DomainError as exc:
        return refused(request, actor, exc, partial(_user_page, request, target))
    return _user_page(request, target, **{key: made for key in after})


@router.get("/ui/users/security")
def find_user(request: Request, username: str = "") -> Response:
    actor = page_user(request)
    try:
        target = accounts.managed_user(context_of(request), actor, username[:64])
    except DomainError as exc:
        return refused(request, actor, exc)
    return RedirectResponse(f"/ui/users/{target.id}/security", status_code=303)


@router.get("/ui/users/{user_id}/security")
def user_page(request: Request, user_id: PathId) -> Response:
    actor = page_user(request)
    try:
        return _user_page(request, user_id)
    except DomainError as exc:
        return refused(request, actor, exc)


@router.post("/ui/users/{user_id}/password-reset")
def issue_reset(request: Request, user_id: PathId, must_change: str = Form(""), csrf: str = Form("")) -> Response:
    def issue(ctx: Any, actor: Any, target: int) -> passwords.PasswordReset:
        return passwords.issue_password_reset(ctx, actor, target, must_change_at_login=bool(must_change))

    return _user_change(request, user_id, csrf, issue, reset=True)


@router.post("/ui/users/{user_id}/two-factor-reset")
def reset_two_factor(request: Request, user_id: PathId, csrf: str = Form("")) -> Response:
    return _user_change(request, user_id, csrf, two_factor.reset_two_factor)


@router.post("/ui/users/{user_id}/sessions/end-all")
def end_user_sessions(request: Request, user_id: PathId, csrf: str = Form("")) -> Response:
    def end(ctx: Any, actor: Any, target: int) -> int:
        return sessions.end_other_sessions(ctx, actor, keeping=None, user_id=target)

    return _user_change(request, user_id, csrf, end)


@router.post("/ui/users/{user_id}/tokens/{token_id}/revoke")
def revoke_user_token(request: Request, user_id: PathId, token_id: PathId, csrf: str = Form("")) -> Response:
    def revoke(ctx: Any, actor: Any, target: int) -> object:
        return tokens.revoke_api_token(ctx, actor, token_id, owner=target)

    return _user_change(request, user_id, csrf, revoke)


# --- which notifications also come by e-mail or SMS ---


@router.get("/ui/account/notifications")
def notification_settings_page(request: Request, saved: str = "") -> Response:
    return _page(request, signed_in(request), "notifications", saved=saved == "1")


def _copies(values: list[str]) -> set[tuple[NotificationKind, CopyChannel]]:
    """The ticked boxes, each "kind:channel"."""
    chosen = set()
    for value in values[: 2 * len(NotificationKind)]:
        kind, _, channel = value.partition(":")
        if kind not in {k.value for k in NotificationKind} or channel not in {c.value for c in CopyChannel}:
            raise ValidationFailed("Choose among the offered kinds and channels.", field="copy")
        chosen.add((NotificationKind(kind), CopyChannel(channel)))
    return chosen


@router.post("/ui/account/notifications")
async def save_notification_settings(request: Request) -> Response:
    """The form: ticked `copy` boxes; a new e-mail address or mobile number (blank: kept), or
    `forget_email`/`forget_phone` to remove them."""
    who = signed_in(request)
    try:
        form = await request.form()
        fields = await form_fields(request)  # refuses a NUL anywhere, naming the field
    except DomainError as exc:
        return refused(request, who.user, exc, partial(_page, request, who, "notifications"))
    values = [v for v in form.getlist("copy") if isinstance(v, str)]

    def save(ctx: Context, me: SignedIn) -> object:
        email = "" if fields.get("forget_email") else (fields.get("email") or None)
        phone = "" if fields.get("forget_phone") else (fields.get("phone") or None)
        return inbox.save_copy_settings(ctx, me.user, _copies(values), email=email, phone=phone)

    return run_action(
        request,
        who.user,
        fields.get("csrf", ""),
        lambda ctx: save(ctx, who),
        then="/ui/account/notifications?saved=1",
        redisplay=partial(_page, request, who, "notifications"),
    )
