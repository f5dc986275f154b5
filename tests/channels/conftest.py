"""A kefu with its channels configured (secrets, gateway), on the session's databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from tests.support.databases import Database
from tests.support.kefus import make_kefu
from tests.support.peers import SmsGateway, sms_gateway, smtp_sink

SMS_SECRET = "sms-shared-secret-0123"
WECHAT_TOKEN = "wechat-token-42"


@pytest.fixture(scope="session")
def gateway() -> Iterator[SmsGateway]:
    with sms_gateway() as g:
        yield g


@pytest.fixture(scope="session")
def mailbox() -> Iterator[tuple[int, list[bytes]]]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def channel_kefu(
    database: Database, kefu: Kefu, gateway: SmsGateway, mailbox: tuple[int, list[bytes]]
) -> Iterator[Kefu]:
    k = make_kefu(
        database.url,
        sms_secret=SMS_SECRET,
        wechat_token=WECHAT_TOKEN,
        sms_gateway=gateway.url,
        smtp_url=f"smtp://127.0.0.1:{mailbox[0]}",
        mail_from="kefu@centre.example",
        quiet_hours="",
    )
    yield k
    k.engine.dispose()


@pytest.fixture
def channel_client(channel_kefu: Kefu) -> Iterator[TestClient]:
    from kefu.app import create_app

    with TestClient(create_app(channel_kefu), base_url="http://127.0.0.1") as c:
        yield c
