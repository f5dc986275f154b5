"""ID numbers are encrypted at rest with the newest data key; `kefu keys rotate` moves every stored
one to the newest key (and encrypts those stored in clear before), in batches, idempotently."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text
from typer.testing import CliRunner

from kefu import cli
from kefu.adapters.data_protection import DataKeyError, DataKeys, key_id, new_key
from kefu.adapters.db.tables import audit_log, customers
from kefu.config import DEV_DATA_KEY, Settings
from kefu.domain.audit import Unmasking, UnmaskReason
from kefu.domain.org import Role
from kefu.services.customers import NewCustomer, get_customer, register_customer
from kefu.services.data_keys import rotate_data_keys
from tests.support.databases import empty_database
from tests.support.factories import new_user, unique_phone
from tests.support.kefus import make_kefu, seeded_kefu

ID_NUMBER = "11010519491231002X"
OLD, NEW = new_key(), new_key()


def test_the_cipher_round_trips_with_a_fresh_nonce_and_binds_the_field() -> None:
    keys = DataKeys([base64.urlsafe_b64decode(NEW)], hash_key=b"k")
    one, two = keys.encrypt(ID_NUMBER, "customers.id_number"), keys.encrypt(ID_NUMBER, "customers.id_number")
    assert one != two and ID_NUMBER not in one and one.startswith(f"enc1:{keys.newest}:")
    assert keys.decrypt(one, "customers.id_number") == ID_NUMBER
    with pytest.raises(DataKeyError, match="altered"):
        keys.decrypt(one, "outbox.secret_body")  # copied into another field, it does not decrypt
    with pytest.raises(DataKeyError, match="altered"):
        keys.decrypt(one[:-2] + ("A" if one[-2] != "A" else "B") + one[-1], "customers.id_number")
    assert keys.decrypt(ID_NUMBER, "customers.id_number") == ID_NUMBER  # stored before encryption
    with pytest.raises(DataKeyError, match="damaged"):
        keys.decrypt("enc1:x", "customers.id_number")  # a truncated value is named, not a crash


def test_older_keys_still_decrypt_and_a_missing_key_is_named() -> None:
    old = DataKeys([base64.urlsafe_b64decode(OLD)], hash_key=b"k")
    both = DataKeys([base64.urlsafe_b64decode(k) for k in (NEW, OLD)], hash_key=b"k")
    stored = old.encrypt(ID_NUMBER, "f")
    assert both.decrypt(stored, "f") == ID_NUMBER and not both.is_current(stored)
    only_new = DataKeys([base64.urlsafe_b64decode(NEW)], hash_key=b"k")
    with pytest.raises(DataKeyError, match=key_id(base64.urlsafe_b64decode(OLD))):
        only_new.decrypt(stored, "f")
    assert old.digest("123456") != DataKeys([b"\0" * 32], hash_key=b"other").digest("123456")


def test_settings_refuse_production_without_keys_and_bad_keys_anywhere() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "secret_key": "s" * 40,
        "database_url": "postgresql+psycopg://kefu@db/kefu",
    }
    for keys in ("", DEV_DATA_KEY, f"{NEW},{DEV_DATA_KEY}"):
        with pytest.raises(ValidationError, match="KEFU_DATA_KEYS"):
            Settings(**production, data_keys=keys)
    assert len(Settings(**production, data_keys=f"{NEW}, {OLD}").data_key_list()) == 2
    with pytest.raises(ValidationError, match="key 2 is not 32 bytes"):
        Settings(data_keys=f"{NEW},c2hvcnQ=")
    assert Settings(environment="development").data_key_list() == [base64.urlsafe_b64decode(DEV_DATA_KEY)]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path, "kefu_keys") as found:
        yield found


def test_id_numbers_are_stored_encrypted_and_rotated_to_the_newest_key(url: str) -> None:
    old = seeded_kefu(url, data_keys=OLD)
    admin = new_user(old, Role.ADMIN)
    ids = [
        register_customer(old.ctx, admin, NewCustomer(name=f"客户{n}", phone=unique_phone(), id_number=ID_NUMBER)).id
        for n in range(5)
    ]
    with old.engine.begin() as conn:
        stored = conn.execute(select(customers.c.id_number).where(customers.c.id.in_(ids))).scalars().all()
        assert all(v.startswith(f"enc1:{old.keys.newest}:") and ID_NUMBER not in v for v in stored)
        # One stored before encryption existed.
        conn.execute(text("UPDATE customers SET id_number = :v WHERE id = :i"), {"v": ID_NUMBER, "i": ids[0]})
    old.engine.dispose()

    env = {"KEFU_DATABASE_URL": url, "KEFU_ENVIRONMENT": "test", "KEFU_DATA_KEYS": f"{NEW},{OLD}"}
    result = CliRunner().invoke(cli.app, ["keys", "rotate", "--batch", "2"], env=env)
    assert result.exit_code == 0, result.output
    new_id = key_id(base64.urlsafe_b64decode(NEW))
    assert f"re-encrypted 5 ID numbers with key {new_id}" in result.stdout
    again = CliRunner().invoke(cli.app, ["keys", "rotate"], env=env)
    assert again.exit_code == 0 and "re-encrypted 0 ID numbers" in again.stdout

    only_new = make_kefu(url, data_keys=NEW)  # the old key may go now
    try:
        with only_new.engine.connect() as conn:
            stored = conn.execute(select(customers.c.id_number).where(customers.c.id.in_(ids))).scalars().all()
            rotations = (
                conn.execute(
                    select(audit_log.c.details).where(audit_log.c.action == "keys.rotated").order_by(audit_log.c.seq)
                )
                .scalars()
                .all()
            )
        assert all(v.startswith(f"enc1:{new_id}:") for v in stored)
        assert rotations == [{"reencrypted": 5}, {"reencrypted": 0}]
        reader = new_user(only_new, Role.SUPERVISOR)
        for customer_id in ids:
            assert customer_id is not None
            shown = get_customer(only_new.ctx, reader, customer_id, unmask=Unmasking(UnmaskReason.CUSTOMER_REQUEST))
            assert shown.id_number == ID_NUMBER
        assert rotate_data_keys(only_new.ctx) == 0
    finally:
        only_new.engine.dispose()


def test_the_new_key_command_prints_a_usable_key() -> None:
    result = CliRunner().invoke(cli.app, ["keys", "new"])
    key = result.stdout.strip()
    assert result.exit_code == 0 and len(base64.urlsafe_b64decode(key)) == 32 and key != new_key()
