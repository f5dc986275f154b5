"""The headers of a file a customer or an agent sent (a contact's attachment, a work order's upload),
served so that a browser shows a raster image and downloads anything else, never guesses the type and
runs nothing in it."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from kefu.domain.attachments import INLINE_TYPES


class ServedFile(Protocol):
    """What the headers need of a file: its name and its type."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...


def attachment_headers(file: ServedFile) -> dict[str, str]:
    disposition = "inline" if file.content_type.split(";", 1)[0].strip().lower() in INLINE_TYPES else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
