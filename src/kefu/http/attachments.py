"""The headers of a file a customer sent (a contact's attachment), served so that a browser shows an
image and downloads anything else, never guesses the type and runs nothing in it."""

from __future__ import annotations

from urllib.parse import quote

from kefu.domain.contacts import Attachment


def attachment_headers(file: Attachment) -> dict[str, str]:
    disposition = "inline" if file.content_type.startswith("image/") else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
