"""The argon2 hasher kefu runs with, and the cheap one the tests build kefu with, keep the same promise."""

from __future__ import annotations

import pytest

from kefu.adapters.passwords import Argon2PasswordHasher
from kefu.services.ports import PasswordHasher
from tests.support.hashing import FastHasher


@pytest.mark.parametrize("hasher", [Argon2PasswordHasher(), FastHasher()], ids=["argon2", "fast"])
def test_only_the_right_password_opens_and_a_bad_hash_is_no_crash(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct-horse-42")
    assert "correct-horse-42" not in stored and stored != hasher.hash("correct-horse-42")  # salted
    assert hasher.verify("correct-horse-42", stored)
    assert not hasher.verify("correct-horse-43", stored)
    for malformed in ("!", "", "$$$", stored[:-4]):
        assert not hasher.verify("correct-horse-42", malformed)
