"""Sealing small secrets kept in the database (TOTP secrets): AES-256-GCM with a key derived from
KEFU_SECRET_KEY by HKDF-SHA256, so that a dump of the database alone reveals none of them.

A sealed value reads `v1.<base64url(nonce | ciphertext | tag)>`; the authenticated data binds it to
its row (e.g. `totp:42`), so a value copied onto another user's row does not open. Changing
KEFU_SECRET_KEY makes the sealed values unreadable: the users concerned enrol again."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kefu.adapters.data_protection import aead_open, aead_seal

VERSION = "v1"


class AesGcmSealer:
    def __init__(self, secret_key: str, *, purpose: bytes = b"kefu sealed secrets v1") -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, bound_to: str) -> str:
        sealed = aead_seal(self._aead, plaintext, bound_to)
        return f"{VERSION}.{base64.urlsafe_b64encode(sealed).decode()}"

    def open(self, sealed: str, *, bound_to: str) -> str:
        version, _, body = sealed.partition(".")
        if version != VERSION:
            raise ValueError("not a sealed value of this version")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return aead_open(self._aead, raw, bound_to)
        except (InvalidTag, ValueError) as exc:
            raise ValueError("the sealed value was changed, moved or sealed with another key") from exc
