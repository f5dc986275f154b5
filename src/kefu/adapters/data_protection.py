"""Personal data at rest (R31, R32): AES-256-GCM encryption of fields (ID numbers, the text of a
message that carries a one-time code) with keys from the settings, and keyed hashes (HMAC-SHA256)
of one-time codes.

A stored value is "enc1:<key id>:<base64url(nonce | ciphertext | tag)>". The key id is derived from
the key itself (8 hex digits of a SHA-256), so an operator only lists keys, newest first: the newest
encrypts, all of them decrypt, and `kefu keys rotate` re-encrypts what an older key encrypted. The
field's name is authenticated with it (GCM's associated data): a value copied into another field or
another kind of record does not decrypt. A value without the prefix was stored before encryption
and is read as it is until the rotation encrypts it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"
NONCE = 12


class DataKeyError(Exception):
    """A stored value cannot be decrypted: its key is no longer configured, or it was altered."""


def aead_seal(cipher: AESGCM, plaintext: str, associated: str) -> bytes:
    """AES-GCM with a fresh 96-bit nonce: nonce | ciphertext | tag, `associated` authenticated with
    it (the field, or the row a secret belongs to). Also what adapters/sealing.py seals TOTP secrets with."""
    nonce = os.urandom(NONCE)
    return nonce + cipher.encrypt(nonce, plaintext.encode(), associated.encode())


def aead_open(cipher: AESGCM, sealed: bytes, associated: str) -> str:
    """The inverse of aead_seal; InvalidTag if the value, its associated data or the key differ."""
    return cipher.decrypt(sealed[:NONCE], sealed[NONCE:], associated.encode()).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"kefu data key id:" + key).hexdigest()[:8]


class DataKeys:
    """The configured data keys (newest first) and the key for one-time codes' hashes."""

    def __init__(self, keys: Sequence[bytes], *, hash_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._ciphers = {key_id(k): AESGCM(k) for k in keys}
        self.newest = key_id(keys[0])
        self._hash_key = hash_key

    def encrypt(self, plaintext: str, field: str) -> str:
        sealed = aead_seal(self._ciphers[self.newest], plaintext, field)
        return f"{PREFIX}:{self.newest}:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"

    def decrypt(self, stored: str, field: str) -> str:
        if not stored.startswith(PREFIX + ":"):
            return stored  # stored before encryption
        parts = stored.split(":", 2)
        if len(parts) != 3:
            raise DataKeyError(f"a stored {field} is damaged: it has no key id and no ciphertext")
        _, kid, body = parts
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DataKeyError(f"{field} was encrypted with key {kid}, which KEFU_DATA_KEYS no longer holds")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aead_open(cipher, raw, field)
        except (InvalidTag, binascii.Error, ValueError):
            raise DataKeyError(f"a stored {field} does not decrypt with key {kid}: it was altered") from None

    def is_current(self, stored: str) -> bool:
        """Encrypted with the newest key (nothing for the rotation to do)."""
        return stored.startswith(f"{PREFIX}:{self.newest}:")

    def current_prefix(self) -> str:
        return f"{PREFIX}:{self.newest}:"

    def digest(self, value: str) -> str:
        """HMAC-SHA256 (hex) with a key that is not in the database: six digits hashed this way
        cannot be found again by trying all million of them against a copy of the database."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def hash_key(secret_key: str) -> bytes:
    """The key of the one-time codes' hashes, derived from KEFU_SECRET_KEY."""
    return hmac.new(secret_key.encode(), b"kefu one-time codes", hashlib.sha256).digest()


def new_key() -> str:
    """A fresh data key for KEFU_DATA_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
