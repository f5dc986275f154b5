"""The audit log for auditors and administrators (R35): filtered by period, who acted, what was
done, the subject and the customer concerned; newest first, one page at a time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.domain.audit import AuditAction, AuditFilter
from kefu.domain.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.domain.org import User
from kefu.services import audit
from kefu.web.kit import context_of, page_user, refused, render, user_timezone

router = APIRouter(include_in_schema=False)

FIELDS = ("start", "end", "actor", "action", "subject_type", "subject_id", "customer")


@router.get("/ui/audit")
def audit_log(request: Request) -> Response:
    user = page_user(request)
    form = {k: request.query_params.get(k, "").strip()[:200] for k in (*FIELDS, "before")}
    try:
        page = audit.read_audit_log(
            context_of(request), user, _filter(request, form), actor_username=form["actor"] or None, limit=50
        )
    except PermissionDenied as exc:
        return refused(request, user, exc)
    except DomainError as exc:
        return refused(request, user, exc, partial(_show, request, user, form, None))
    return _show(request, user, form, page)


def _show(
    request: Request,
    user: User,
    form: dict[str, str],
    page: audit.AuditPage | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    query = {k: form[k] for k in FIELDS if form.get(k)}
    older = None
    if page is not None and page.next_before_id is not None:
        older = "/ui/audit?" + urlencode({**query, "before": page.next_before_id})
    return render(
        request,
        "audit.html",
        status_code,
        user=user,
        form=form,
        page=page,
        older=older,
        actions=list(AuditAction),
        error=error,
    )


def _filter(request: Request, form: dict[str, str]) -> AuditFilter:
    """The form's filters; the days are whole days in the reader's timezone, both included."""
    tz = user_timezone(request)

    def day(name: str) -> datetime | None:
        if not form[name]:
            return None
        try:
            return datetime.combine(date.fromisoformat(form[name]), time(0), tz)
        except ValueError:
            raise ValidationFailed("Enter the day as 2026-12-31.", field=name) from None

    end = day("end")
    action = form["action"]
    if action and action not in {a.value for a in AuditAction}:
        raise ValidationFailed("Choose one of the offered actions.", field="action")
    return AuditFilter(
        start=day("start"),
        end=end + timedelta(days=1) if end else None,
        actions=(AuditAction(action),) if action else (),
        subject_type=form["subject_type"] or None,
        subject_id=form["subject_id"] or None,
        customer_id=_number(form["customer"], "customer"),
        before_id=_number(form["before"], "before"),
    )


def _number(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**63:
        raise ValidationFailed("{name} must be a whole number.", field=field, name=field)
    return int(value)
