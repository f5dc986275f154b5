"""Reading an uploaded file (multipart) with the size limit kept while reading: over it, the
upload is refused with 413 and nothing more is read."""

from __future__ import annotations

from typing import Protocol

from kefu.domain.attachments import AttachmentTooLarge

CHUNK = 64 * 1024


class Readable(Protocol):
    """An uploaded file as the frameworks hand it over (Starlette's UploadFile)."""

    async def read(self, size: int = -1) -> bytes: ...


async def read_upload(file: Readable, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise AttachmentTooLarge(mb=max_bytes // 2**20)
        parts.append(chunk)
    return b"".join(parts)


def upload_limit(max_attachment_bytes: int) -> int:
    """The request body an upload route reads: the file and the multipart envelope around it."""
    return max_attachment_bytes + 64 * 1024
