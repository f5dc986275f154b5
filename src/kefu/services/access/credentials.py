"""What sessions, API tokens, recovery codes and reset codes have in common: a random secret shown
once, stored only as its SHA-256 (each secret carries at least 80 random bits, so a fast hash is
enough: nobody guesses one from its hash)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "kefu_"  # noqa: S105 - a prefix, not a secret
#: Codes people type or read out: no 0/o, 1/l/i, so nothing is mistaken for something else.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A bearer secret for a session or an API token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_code(groups: int = 4) -> str:
    """A code a person types: groups of four characters, e.g. `k7mq-2xr9-...` (about 20 bits a group)."""
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def code_hash(typed: str) -> str:
    """The hash of a typed code, however it was typed (case, spaces, dashes)."""
    return token_hash("".join(c for c in typed.lower() if c.isalnum()))
