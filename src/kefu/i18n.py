"""Translation catalogues (Babel .po files, zh_CN default and en), loaded once at start-up.

Message ids are the English texts; the `en` catalogue is therefore mostly identity, and exists so
that English can carry its own wording where it differs and the extraction check stays complete.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOGUE_DIR = Path(__file__).parent / "translations"


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue for a locale, read straight from its .po file (no build step)."""
    path = CATALOGUE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return Translations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick zh_CN or en from an Accept-Language header."""
    if not accept_language:
        return default
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower().replace("-", "_")
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh_CN"
    return default


def format_duration(locale: str, minutes: int) -> str:
    """2小时15分 / 2 h 15 min; a negative duration reads as overdue."""
    t = translations(locale)
    hours, rest = divmod(abs(minutes), 60)
    text = (t.gettext("{h} h {m} min") if hours else t.gettext("{m} min")).format(h=hours, m=rest)
    return t.gettext("overdue {duration}").format(duration=text) if minutes < 0 else text


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def translate_error(locale: str, template: str, params: dict[str, object]) -> str:
    """Translate a message template and its text parameters (e.g. the kind of a missing thing)."""
    text = gettext(locale, template)
    params = {k: gettext(locale, v) if isinstance(v, str) else v for k, v in params.items()}
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError):  # a translation that lost a placeholder must not hide the error
        return template.format(**params) if params else template
