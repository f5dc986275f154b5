"""Tags on work orders: short labels an organisation keeps a list of (and, where its setting allows,
labels typed freely). A tag is stored by its cleaned name, so lists filter on it and a text index can
take it as it is."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from kefu.domain.errors import ValidationFailed

MAX_NAME = 40
#: Tags one work order may carry, and tags one request may add or remove.
MAX_PER_WORK_ORDER = 20


@dataclass(frozen=True)
class Tag:
    """A tag of an organisation's list; the list applies to the organisation's subtree."""

    id: int | None
    organisation_id: int
    name: str
    created_at: datetime
    active: bool = True


def clean_tag(raw: str, field: str = "tags") -> str:
    """A tag's name as stored: NFC, trimmed, inner whitespace one space; 1 to 40 characters, no
    control characters (NUL included), no commas (lists of tags are written with them)."""
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if not text or len(text) > MAX_NAME:
        raise ValidationFailed("A tag is 1 to 40 characters long.", field=field)
    if any(unicodedata.category(ch)[0] == "C" for ch in text) or "," in text or "，" in text:
        raise ValidationFailed(
            "A tag may not contain control characters or commas: {tag}.",
            field=field,
            tag=text.encode("unicode_escape").decode(),
        )
    return text


def clean_tags(raw: list[str], field: str = "tags") -> list[str]:
    """Several tags, each once, in the order given; at most MAX_PER_WORK_ORDER."""
    if len(raw) > MAX_PER_WORK_ORDER:
        raise ValidationFailed("At most {count} tags at a time.", field=field, count=MAX_PER_WORK_ORDER)
    out: list[str] = []
    for item in raw:
        name = clean_tag(item, field)
        if name not in out:
            out.append(name)
    return out
