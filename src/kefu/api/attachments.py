"""/api/v1/work-orders/{number}/attachments: files agents upload to a work order, listed and
downloaded within the data scope, served like e-mail attachments (kefu.http.attachments)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.responses import json_response
from kefu.domain.attachments import WorkOrderFile
from kefu.http.attachments import attachment_headers
from kefu.http.uploads import read_upload
from kefu.services import attachments

router = APIRouter(prefix="/work-orders", tags=["attachments"])


class FileOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    by_customer: bool
    customer_visible: bool
    url: str

    @classmethod
    def of(cls, number: str, f: WorkOrderFile) -> FileOut:
        assert f.id is not None
        return cls(
            id=f.id,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
            uploaded_at=f.uploaded_at,
            by_customer=f.by_customer,
            customer_visible=f.customer_visible,
            url=f"/api/v1/work-orders/{number}/attachments/{f.id}",
        )


class FileList(BaseModel):
    items: list[FileOut]


@router.post("/{number}/attachments", status_code=201, response_model=FileOut)
async def upload(
    number: str,
    ctx: Ctx,
    user: CurrentUser,
    file: Annotated[
        UploadFile | None, File(description="images, PDF, text, Word, Excel, audio or MP4; 10 MB at most")
    ] = None,
    customer_visible: Annotated[bool, Form()] = False,
) -> Response:
    """Add a file to the work order (an event on its timeline): internal unless `customer_visible`.
    Over the size limit: 413; a type kefu does not keep: 422; nothing is stored either way."""
    content = await read_upload(file, ctx.max_attachment_bytes) if file is not None else None
    stored = attachments.upload(
        ctx,
        user,
        number,
        filename=file.filename if file is not None else None,
        content_type=file.content_type if file is not None else None,
        content=content,
        customer_visible=customer_visible,
    )
    out = FileOut.of(number, stored)
    return json_response(out, 201, {"Location": out.url})


@router.get("/{number}/attachments", response_model=FileList)
def list_files(number: str, ctx: Ctx, user: CurrentUser) -> Response:
    return json_response(FileList(items=[FileOut.of(number, f) for f in attachments.list_files(ctx, user, number)]))


@router.get(
    "/{number}/attachments/{file_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def download(number: str, file_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    found = attachments.get_file(ctx, user, number, file_id)
    return Response(found.content or b"", media_type=found.content_type, headers=attachment_headers(found))
