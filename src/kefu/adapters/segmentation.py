"""Chinese word segmentation for search (jieba), the same for what is stored and what is asked.

Stored text is cut in jieba's search mode (a long word also yields the shorter words inside it:
中华人民共和国 → 中华, 人民, 共和国 …); a query is cut precisely, so each of its words is one that
stored text yields. Every word is then split at anything that is not a letter or digit and lower-cased:
the full-text indexes (SQLite FTS5 unicode61, PostgreSQL's `simple` parser) see plain words only.

Work-order numbers and phone numbers are stored as extra words that the query can reach: every tail
of the number (`xn` + tail: a query word matches as a prefix, so any part of the number finds it) and
every tail of four or more digits of the phone (`xt` + tail: whole, or the last digits)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba

_WORD_PARTS = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_lock = threading.Lock()
_ready = False

#: Prefixes of the words that carry numbers (never produced by segmenting text, which has no
#: letters glued to a number's tail in the same word unless someone typed exactly that).
NUMBER_TAG = "xn"
PHONE_TAG = "xt"
#: The shortest part of a number or phone that is looked up as such.
MIN_DIGITS = 4
#: A whole phone number (mobile, or landline with area code) has at least this many digits.
WHOLE_PHONE = 11
#: At most this many words of a query count.
MAX_QUERY_WORDS = 8


def _jieba() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _ready = True


def _plain(words: Iterable[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        out.extend(part.lower() for part in _WORD_PARTS.findall(unicodedata.normalize("NFKC", word)))
    return out


def text_words(text: str | None) -> list[str]:
    """The words of stored text, in order (repeats kept: they count for ranking)."""
    if not text:
        return []
    _jieba()
    return _plain(jieba.cut_for_search(text))


def name_words(name: str | None) -> list[str]:
    """A person's name: its words, the whole name, and each two characters of a Chinese name (小明
    finds 王小明)."""
    if not name:
        return []
    words = text_words(name)
    plain = "".join(_plain([name]))
    if plain and plain not in words:
        words.append(plain)
    if _CJK.search(plain):
        words.extend(plain[i : i + 2] for i in range(len(plain) - 1) if plain[i : i + 2] not in words)
    return words


def number_words(number: str) -> list[str]:
    """Every tail of a work-order number (at least MIN_DIGITS long), tagged."""
    plain = "".join(_plain([number]))
    return [NUMBER_TAG + plain[i:] for i in range(0, max(len(plain) - MIN_DIGITS + 1, 1))]


def phone_words(phone: str | None) -> list[str]:
    """Every tail of MIN_DIGITS or more digits of a phone number, tagged."""
    digits = "".join(ch for ch in phone or "" if ch.isascii() and ch.isdigit())
    return [PHONE_TAG + digits[i:] for i in range(0, len(digits) - MIN_DIGITS + 1)]


def query_words(q: str) -> list[str]:
    """The words of a query, at most MAX_QUERY_WORDS, without repeats. A query of digits with the
    separators people type in phone numbers (+86 138-1234-5678) is one word."""
    compact = re.sub(r"[\s\-+()（）]", "", q)
    if compact.isascii() and compact.isdigit():
        if len(compact) == 13 and compact.startswith("86"):
            compact = compact[2:]  # China's country code: phones are stored without it
        return [compact]
    _jieba()
    seen: list[str] = []
    for word in _plain(jieba.cut(q)):
        if word not in seen:
            seen.append(word)
    return seen[:MAX_QUERY_WORDS]


def looks_like_number(word: str) -> bool:
    """A query word that may be part of a work-order number."""
    return word.isascii() and word.isalnum() and len(word) >= MIN_DIGITS


def looks_like_phone(word: str) -> bool:
    """A query word that may be a phone number or its last digits."""
    return word.isascii() and word.isdigit() and len(word) >= MIN_DIGITS
