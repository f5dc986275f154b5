"""Files that come with a work order — sent by e-mail, uploaded by an agent or by the customer on the
portal — under one set of limits: the types kefu keeps, the size, and a file name that is safe to
store and to offer for download."""

from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from kefu.domain.errors import N_, RequestTooLarge, ValidationFailed

MAX_ATTACHMENT = 10 * 2**20
#: The content types kefu keeps (prefixes); anything else is refused. An SVG image can carry script:
#: it is no "image/" here.
ALLOWED_TYPES = (
    "image/",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-excel",
    "audio/",
    "video/mp4",
)
REFUSED_TYPES = ("image/svg",)
#: Shown inline by browsers (raster images); everything else is downloaded.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


def allowed_type(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(ALLOWED_TYPES) and not kind.startswith(REFUSED_TYPES)


class AttachmentTooLarge(RequestTooLarge):
    """An uploaded file over the size limit: 413, nothing stored."""

    code = "attachment_too_large"
    template = N_("The file is larger than {mb} MB; nothing was stored.")


def clean_filename(raw: str | None) -> str:
    """The last part of the name a client gave (no directories, no control characters, NUL
    included, any run of spaces one space), NFC, at most 200 characters keeping the extension;
    "attachment" when nothing is left."""
    text = unicodedata.normalize("NFC", (raw or "").replace("\\", "/"))
    kept = (" " if unicodedata.category(ch)[0] == "Z" else ch for ch in posixpath.basename(text))
    text = " ".join("".join(ch for ch in kept if unicodedata.category(ch)[0] != "C").split()).strip(" .")
    if len(text) > 200:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else text[:200]
    return text or "attachment"


def check_upload(filename: str | None, content_type: str | None, size: int, *, max_bytes: int) -> tuple[str, str]:
    """The cleaned name and content type of an upload within the limits; refused otherwise."""
    if size > max_bytes:
        raise AttachmentTooLarge(mb=max_bytes // 2**20)
    if size == 0:
        raise ValidationFailed("The file is empty.", field="file")
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not allowed_type(kind):
        raise ValidationFailed(
            "Files of type {type} are not accepted; send images, PDF, text, Word or Excel documents, "
            "audio or MP4 video.",
            field="file",
            type=kind or "?",
        )
    return clean_filename(filename), kind


@dataclass(frozen=True)
class WorkOrderFile:
    """A file uploaded to a work order by an agent (internal, or shown to the customer) or by the
    customer on the portal (always shown to the customer)."""

    id: int | None
    work_order_id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    uploaded_by: int  # the agent, or the system account for the customer
    by_customer: bool
    customer_visible: bool
    sha256: str = ""
    content: bytes | None = field(default=None, repr=False, compare=False)
