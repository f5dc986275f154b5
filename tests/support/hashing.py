"""A cheap password hasher for the tests: argon2 is slow on purpose (hundreds of milliseconds a hash
on a busy machine), and the suite creates and logs in hundreds of users. This one is a real scheme
(PBKDF2-HMAC-SHA256, salted) with few iterations: a wrong password is still refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "test-pbkdf2-sha256"
ITERATIONS = 1_000


class FastHasher:
    def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        return f"{PREFIX}${ITERATIONS}${salt}${self._digest(password, salt, ITERATIONS)}"

    def verify(self, password: str, password_hash: str) -> bool:
        parts = password_hash.split("$")
        if len(parts) != 4 or parts[0] != PREFIX or not parts[1].isdigit():
            return False  # not one of ours (e.g. "!" for an account no password opens)
        _, iterations, salt, digest = parts
        return hmac.compare_digest(self._digest(password, salt, int(iterations)), digest)

    @staticmethod
    def _digest(password: str, salt: str, iterations: int) -> str:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
