"""The customers' self-service portal (/portal): submit a request with the registration template
(R2), follow it by number after an SMS code, add information, confirm the resolution, rate.
Separate from the agents' pages: no login, no staff names, nothing internal."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import partial

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from kefu.domain.categories import Category
from kefu.domain.errors import N_, DomainError, ValidationFailed
from kefu.domain.values import is_digits, moment, same_secret, whole_number
from kefu.domain.workorders import WorkOrderType
from kefu.http.attachments import attachment_headers
from kefu.http.clients import address_of
from kefu.services import attachments
from kefu.services.channels import portal
from kefu.services.context import Context
from kefu.services.org import reference
from kefu.web.kit import PathId, check_csrf, context_of, form_choice, form_fields, refused, render, run_action, uploaded

router = APIRouter(include_in_schema=False)
PORTAL_COOKIE = "kefu_portal"
PORTAL_HOURS = 2
TYPES = (
    WorkOrderType.FAULT,
    WorkOrderType.COMPLAINT,
    WorkOrderType.INQUIRY,
    WorkOrderType.SERVICE_REQUEST,
    WorkOrderType.SUGGESTION,
)


def _secret(request: Request) -> bytes:
    return str(request.app.state.kefu.settings.secret_key).encode()


def _ticket(request: Request, number: str) -> str:
    expires = int(time.time()) + PORTAL_HOURS * 3600
    payload = f"{number}.{expires}"
    return payload + "." + hmac.new(_secret(request), payload.encode(), hashlib.sha256).hexdigest()


def _verified(request: Request, number: str) -> bool:
    """The browser proved the phone of this work order a little while ago (signed cookie)."""
    value = request.cookies.get(PORTAL_COOKIE, "")
    try:
        got_number, expires, signature = value.rsplit(".", 2)
    except ValueError:
        return False
    expected = hmac.new(_secret(request), f"{got_number}.{expires}".encode(), hashlib.sha256).hexdigest()
    return (
        same_secret(expected, signature) and got_number == number and is_digits(expires) and int(expires) > time.time()
    )


def _categories(request: Request) -> list[Category]:
    return [c for c in reference.list_categories_unchecked(context_of(request)) if "." in c.code]


def _home(
    request: Request,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    track_error: str | None = None,
) -> Response:
    return render(
        request,
        "portal_home.html",
        status_code,
        user=None,
        error=error,
        track_error=track_error,
        form=form or {},
        categories=_categories(request),
        types=TYPES,
    )


@router.get("/portal")
def home(request: Request) -> Response:
    return _home(request)


@router.post("/portal/requests")
async def submit(request: Request) -> Response:
    form = await form_fields(request)
    ctx = context_of(request)
    try:
        check_csrf(request, form.get("csrf"))
        if not form.get("name"):
            raise ValidationFailed("Tell us your name.", field="name")
        if not form.get("phone"):
            raise ValidationFailed("Give the customer's phone number.", field="phone")
        kind = form_choice(WorkOrderType, form.get("type", ""), N_("Choose what kind of request it is."), field="type")
        symptom = form.get("description", "")
        if len(symptom) < 5:
            raise ValidationFailed("Describe the problem in a few words.", field="description")
        device = form.get("device") or None
        category = form.get("category") or None
        reference_labels = {c.code: c.label("zh_CN") for c in reference.list_categories_unchecked(ctx)}
        title = " · ".join(x for x in (reference_labels.get(category or ""), device) if x) or symptom[:60]
        fault_time = form.get("fault_time", "")
        result = portal.submit(
            ctx,
            portal.Submission(
                name=form["name"],
                phone=form["phone"],
                type=kind,
                description=symptom,
                category=category,
                title=title,
                device=device,
                fault_time=moment(fault_time, "fault_time", ctx.timezone) if fault_time else None,
                place=form.get("place") or None,
            ),
            address=address_of(request.scope),
        )
    except DomainError as exc:
        return refused(request, None, exc, partial(_home, request, form=form))
    assert result.work_order is not None
    view = portal.view(ctx, result.work_order.number)
    return render(request, "portal_done.html", user=None, number=result.work_order.number, promised=view.promised)


@router.post("/portal/track")
def track(request: Request, number: str = Form(""), phone: str = Form(""), csrf: str = Form("")) -> Response:
    """Send a code to the phone on record for this work order."""
    try:
        check_csrf(request, csrf)
        portal.send_code(context_of(request), number, phone, address=address_of(request.scope))
    except DomainError as exc:
        form = {"track_number": number, "track_phone": phone}
        return refused(
            request,
            None,
            exc,
            lambda *, error, status_code: _home(request, track_error=error, status_code=status_code, form=form),
        )
    return render(request, "portal_code.html", user=None, number=number.strip().upper(), error=None)


@router.post("/portal/verify")
def verify(request: Request, number: str = Form(""), code: str = Form(""), csrf: str = Form("")) -> Response:
    try:
        check_csrf(request, csrf)
        verified = portal.verify_code(context_of(request), number, code, address=address_of(request.scope))
    except DomainError as exc:
        return refused(request, None, exc, partial(render, request, "portal_code.html", user=None, number=number))
    response = RedirectResponse(f"/portal/orders/{verified}", status_code=303)
    response.set_cookie(
        PORTAL_COOKIE,
        _ticket(request, verified),
        max_age=PORTAL_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.kefu.settings.cookie_secure,
    )
    return response


def _order(
    request: Request, number: str, *, error: str | None = None, status_code: int = 200, notice: str | None = None
) -> Response:
    if not _verified(request, number):
        return RedirectResponse("/portal#track", status_code=303)
    ctx = context_of(request)
    view = portal.view(ctx, number)
    return render(
        request,
        "portal_order.html",
        status_code,
        user=None,
        view=view,
        wo=view.work_order,
        error=error,
        notice=notice,
        files=attachments.customer_files(ctx, number),
        max_mb=ctx.max_attachment_bytes // 2**20,
    )


@router.get("/portal/orders/{number}")
def order(request: Request, number: str) -> Response:
    return _order(request, number)


@router.post("/portal/orders/{number}/attachments")
async def upload(request: Request, number: str) -> Response:
    """The customer adds a photo or a document (the limits of e-mail attachments)."""
    if not _verified(request, number):
        return RedirectResponse("/portal#track", status_code=303)
    ctx = context_of(request)
    try:
        filename, content_type, content, fields = await uploaded(request, ctx.max_attachment_bytes)
        check_csrf(request, fields.get("csrf"))
        attachments.customer_upload(
            ctx,
            number,
            filename=filename,
            content_type=content_type,
            content=content,
            address=address_of(request.scope),
        )
    except DomainError as exc:
        return refused(request, None, exc, partial(_order, request, number))
    return RedirectResponse(f"/portal/orders/{number}#files", status_code=303)


@router.get("/portal/orders/{number}/attachments/{file_id}")
def download(request: Request, number: str, file_id: PathId) -> Response:
    """A file of the customer's own work order that is meant for them."""
    if not _verified(request, number):
        return RedirectResponse("/portal#track", status_code=303)
    try:
        found = attachments.customer_file(context_of(request), number, file_id)
    except DomainError as exc:
        return refused(request, None, exc)
    return Response(found.content or b"", media_type=found.content_type, headers=attachment_headers(found))


@router.post("/portal/orders/{number}/{action}")
async def act(request: Request, number: str, action: str) -> Response:
    if not _verified(request, number):
        return RedirectResponse("/portal#track", status_code=303)
    form = await form_fields(request)

    def answer(ctx: Context) -> None:
        if action == "information":
            portal.add_information(ctx, number, form.get("text", ""))
        elif action == "confirm":
            portal.confirm(ctx, number, fixed=form.get("fixed") == "yes", comment=form.get("comment"))
        elif action == "rate":
            portal.rate(ctx, number, whole_number(form.get("score", ""), "score", low=1, high=5), form.get("comment"))
        else:
            raise ValidationFailed("Choose one of the offered actions.", field="action")

    return run_action(
        request,
        None,
        form.get("csrf"),
        answer,
        then=f"/portal/orders/{number}#done",
        redisplay=partial(_order, request, number),
    )
