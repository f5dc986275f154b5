"""WeChat in safe mode (AES-encrypted messages, msg_signature over the body) beside plain mode,
against a peer that implements WeChat's side independently; the timestamp window and replay
refusal in both modes."""

from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kefu.adapters.channels.wechat import signature
from kefu.app import create_app
from kefu.bootstrap import Kefu
from tests.support.databases import Database
from tests.support.kefus import own_kefu
from tests.support.peers import WechatPeer

TOKEN = "safe-mode-token"
APP_ID = "wx1234567890abcdef"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture(scope="module")
def wechat_db(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    yield database.backend, tmp_path_factory.mktemp("wechat")


@pytest.fixture(scope="module")
def safe(wechat_db: tuple[str, Path]) -> Iterator[Kefu]:
    backend, tmp = wechat_db
    with own_kefu(
        backend, tmp, "kefu_safe", wechat_token=TOKEN, wechat_mode="safe", wechat_aes_key=AES_KEY, wechat_app_id=APP_ID
    ) as k:
        yield k


@pytest.fixture(scope="module")
def plain(wechat_db: tuple[str, Path]) -> Iterator[Kefu]:
    backend, tmp = wechat_db
    with own_kefu(backend, tmp, "kefu_plain", wechat_token=TOKEN) as k:
        yield k


def text_message(openid: str, content: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def now() -> str:
    return str(int(time.time()))


def test_safe_mode_decrypts_the_push_and_encrypts_the_reply(safe: Kefu) -> None:
    peer = WechatPeer(TOKEN, AES_KEY, APP_ID)
    openid = "o" + secrets.token_hex(8)
    with TestClient(create_app(safe), base_url="http://127.0.0.1") as c:
        query, body = peer.push(text_message(openid, "宽带断了，一直连不上", "90001"), timestamp=now(), nonce="n1")
        r = c.post("/channels/wechat", params=query, content=body)
        assert r.status_code == 200, r.text
        assert b"Encrypt" in r.content and "宽带".encode() not in r.content  # nothing readable on the wire
        reply = peer.open_reply(r.content)
        assert openid in reply and "GD" in reply  # the number and promised time, to the customer

        # msg_signature covers the body: the same query with another (validly encrypted) body fails.
        _, other = peer.push(text_message(openid, "另一条消息", "90002"), timestamp=query["timestamp"], nonce="n2")
        forged = dict(query, nonce="n2")
        assert c.post("/channels/wechat", params=forged, content=other).status_code == 401
        # A plain push (or one without encrypt_type) is refused in safe mode.
        plain_query = {"timestamp": now(), "nonce": "n3", "signature": signature(TOKEN, now(), "n3")}
        assert c.post(
            "/channels/wechat", params=plain_query, content=text_message(openid, "x", "90003")
        ).status_code in (400, 401)
        # Encrypted for another account: the AppID inside does not match.
        stranger = WechatPeer(TOKEN, AES_KEY, "wxsomeoneelse000000")
        q, b = stranger.push(text_message(openid, "你好", "90004"), timestamp=now(), nonce="n4")
        assert c.post("/channels/wechat", params=q, content=b).status_code == 400
        # Encrypted with another key: the padding does not come out.
        other_key = WechatPeer(TOKEN, base64.b64encode(os.urandom(32)).decode().rstrip("="), APP_ID)
        q, b = other_key.push(text_message(openid, "你好", "90005"), timestamp=now(), nonce="n5")
        assert c.post("/channels/wechat", params=q, content=b).status_code == 400


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_old_timestamps_and_replays_are_refused_in_both_modes(mode: str, plain: Kefu, safe: Kefu) -> None:
    k = safe if mode == "safe" else plain
    peer = WechatPeer(TOKEN, AES_KEY, APP_ID)
    openid = "o" + secrets.token_hex(8)

    def push(content: str, msg_id: str, timestamp: str, nonce: str) -> tuple[dict[str, str], bytes]:
        xml = text_message(openid, content, msg_id)
        if mode == "safe":
            return peer.push(xml, timestamp=timestamp, nonce=nonce)
        return {"timestamp": timestamp, "nonce": nonce, "signature": signature(TOKEN, timestamp, nonce)}, xml.encode()

    with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
        stale = str(int(time.time()) - 301)
        q, b = push("旧消息", "91001", stale, "m1")
        assert c.post("/channels/wechat", params=q, content=b).status_code == 401
        future = str(int(time.time()) + 330)  # past the 300 s window even if this request is slow to arrive
        q, b = push("未来的消息", "91002", future, "m2")
        assert c.post("/channels/wechat", params=q, content=b).status_code == 401
        nonce = secrets.token_hex(6)
        q, b = push("网络很慢", "91003", now(), nonce)
        assert c.post("/channels/wechat", params=q, content=b).status_code == 200
        replay = c.post("/channels/wechat", params=q, content=b)
        assert replay.status_code == 409 and b"GD" not in replay.content  # the captured request tells nothing
        verify = {"timestamp": stale, "nonce": "v", "signature": signature(TOKEN, stale, "v"), "echostr": "e"}
        assert c.get("/channels/wechat", params=verify).status_code == 401
        verify = {"timestamp": now(), "nonce": "v", "signature": signature(TOKEN, now(), "v"), "echostr": "echo"}
        assert c.get("/channels/wechat", params=verify).text == "echo"
