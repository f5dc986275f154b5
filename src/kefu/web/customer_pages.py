"""Pages about the customer at hand: the screen-pop of an incoming call, the customer lookup on the
registration form, and the attachments of their contacts."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from kefu.domain.errors import DomainError
from kefu.http.attachments import attachment_headers
from kefu.services import customers
from kefu.services.channels import cti
from kefu.web.kit import PathId, context_of, error_text, page_user, refused, render

router = APIRouter(include_in_schema=False)


@router.get("/ui/cti")
def screen_pop_page(request: Request, caller: str = "", call_id: str = "") -> Response:
    """The screen-pop: who is calling, their open work orders and last contacts; register from here.
    The call-centre client opens it with ?caller=…&call_id=… when the agent answers."""
    user = page_user(request)
    page = partial(render, request, "screen_pop.html", user=user, caller=caller, call_id=call_id)
    pop = None
    if caller:
        try:
            pop = cti.screen_pop(context_of(request), user, caller)
        except DomainError as exc:
            return refused(request, user, exc, partial(page, pop=None))
    return page(pop=pop, error=None)


@router.get("/ui/contacts/{contact_id}/attachments/{position}")
def contact_attachment(request: Request, contact_id: PathId, position: Annotated[int, Path(ge=0, le=1000)]) -> Response:
    user = page_user(request)
    try:
        found = customers.contact_attachment(context_of(request), user, contact_id, position)
    except DomainError as exc:
        return refused(request, user, exc)
    return Response(found.content or b"", media_type=found.content_type, headers=attachment_headers(found))


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
