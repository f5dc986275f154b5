"""Files on the work-order page (issue #12, part 8): an agent uploads one (internal, or shown to the
customer) and downloads them, served like e-mail attachments (kefu.http.attachments)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from kefu.domain.errors import DomainError
from kefu.http.attachments import attachment_headers
from kefu.services import attachments
from kefu.web.kit import PathId, check_csrf, context_of, detail_page, page_user, refused, uploaded

router = APIRouter(include_in_schema=False)


@router.post("/ui/work-orders/{number}/attachments")
async def upload(request: Request, number: str) -> Response:
    user = page_user(request)
    ctx = context_of(request)
    try:
        filename, content_type, content, fields = await uploaded(request, ctx.max_attachment_bytes)
        check_csrf(request, fields.get("csrf"))
        attachments.upload(
            ctx,
            user,
            number,
            filename=filename,
            content_type=content_type,
            content=content,
            customer_visible=fields.get("customer_visible") == "1",
        )
    except DomainError as exc:
        return refused(request, user, exc, partial(detail_page, request, user, number))
    return RedirectResponse(f"/ui/work-orders/{number}#files", status_code=303)


@router.get("/ui/work-orders/{number}/attachments/{file_id}")
def download(request: Request, number: str, file_id: PathId) -> Response:
    user = page_user(request)
    try:
        found = attachments.get_file(context_of(request), user, number, file_id)
    except DomainError as exc:
        return refused(request, user, exc)
    return Response(found.content or b"", media_type=found.content_type, headers=attachment_headers(found))
