"""WeChat official account (公众号) message push: URL verification, signed requests, XML text
messages in, passive reply XML out — in plain mode (明文) and in safe mode (安全模式), where each
message is AES-256-CBC encrypted with the account's EncodingAESKey and `msg_signature` covers the
encrypted body — and messages out through the customer-service API (`WechatSender`).

Safe mode, as WeChat specifies it: the key is base64(EncodingAESKey + "="), 32 bytes, and its first
16 bytes are the IV; the plaintext is 16 random bytes, the message's length (4 bytes, network
order), the message, and the account's AppID, padded PKCS#7 to a multiple of 32 bytes;
msg_signature = SHA1 of the token, timestamp, nonce and the base64 ciphertext, sorted and joined.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, SubElement, tostring

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from kefu.domain.values import is_digits, same_secret
from kefu.services.ports import Outgoing, SendFailed

MAX_XML = 64 * 1024
BLOCK = 32  # WeChat pads to 32 bytes (PKCS#7 with a block of 32), not AES's 16


def signature(token: str, timestamp: str, nonce: str, *more: str) -> str:
    """SHA1 of the token, timestamp, nonce (and, in safe mode, the encrypted message) sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce, *more]))
    return hashlib.sha1(joined.encode("utf-8", "surrogatepass")).hexdigest()  # noqa: S324 - WeChat's scheme


def signature_ok(token: str, timestamp: str | None, nonce: str | None, given: str | None, *more: str) -> bool:
    if not token or not timestamp or not nonce or not given:
        return False
    return same_secret(signature(token, timestamp, nonce, *more), given.strip().lower())


def fresh(timestamp: str | None, *, window: int, now: float | None = None) -> bool:
    """The push's timestamp (seconds since the epoch, ASCII digits) is within `window` seconds of now."""
    if timestamp is None or not is_digits(timestamp) or len(timestamp) > 12:
        return False
    return abs((time.time() if now is None else now) - int(timestamp)) <= window


class BadCipher(ValueError):
    """The encrypted message does not decrypt to a message for this account."""


class Crypto:
    """Safe mode's encryption for one official account."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the EncodingAESKey is 43 characters of base64") from exc
        if len(self.key) != 32:
            raise ValueError("the EncodingAESKey is 43 characters of base64 (a 32-byte key)")
        self.app_id = app_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: bytes) -> str:
        plain = os.urandom(16) + struct.pack(">I", len(message)) + message + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> bytes:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadCipher("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise BadCipher("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise BadCipher("wrong padding: not encrypted with this account's key")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        message, app_id = content[4 : 4 + length], content[4 + length :]
        if len(message) != length or not same_secret(self.app_id.decode(), app_id.decode("utf-8", "replace")):
            raise BadCipher("the message is not for this account (AppID)")
        return message


def encrypted_body(body: bytes) -> str:
    """The <Encrypt> of a safe-mode push."""
    root = _root(body)
    node = root.find("Encrypt")
    if node is None or not (node.text or "").strip():
        raise BadXml("expected <xml> with <Encrypt> (safe mode)")
    return (node.text or "").strip()


def encrypted_reply(crypto: Crypto, token: str, reply_xml: bytes) -> bytes:
    """A passive reply in safe mode: encrypted, signed, with its own timestamp and nonce."""
    encrypted = crypto.encrypt(reply_xml)
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    root = Element("xml")
    for name, value in (
        ("Encrypt", encrypted),
        ("MsgSignature", signature(token, timestamp, nonce, encrypted)),
        ("TimeStamp", timestamp),
        ("Nonce", nonce),
    ):
        SubElement(root, name).text = value
    return bytes(tostring(root, encoding="utf-8"))


class BadXml(ValueError):
    pass


@dataclass(frozen=True)
class WechatMessage:
    to_user: str  # the official account
    from_user: str  # the customer's openid
    create_time: int
    msg_type: str  # text, image, voice, event …
    content: str
    msg_id: str | None
    event: str | None


def _root(body: bytes) -> Element:
    if len(body) > MAX_XML:
        raise BadXml("the message is larger than 64 kB")
    try:
        root: Element = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise BadXml(f"not well-formed XML: {exc}") from exc
    return root


def parse(body: bytes) -> WechatMessage:
    root = _root(body)

    def text(name: str) -> str:
        node = root.find(name)
        return (node.text or "").strip() if node is not None else ""

    if root.tag != "xml" or not text("FromUserName") or not text("MsgType"):
        raise BadXml("expected <xml> with ToUserName, FromUserName, MsgType (WeChat's message format)")
    created = text("CreateTime")
    return WechatMessage(
        to_user=text("ToUserName"),
        from_user=text("FromUserName"),
        create_time=int(created) if is_digits(created) and len(created) <= 12 else int(time.time()),
        msg_type=text("MsgType"),
        content=text("Content"),
        msg_id=text("MsgId") or None,
        event=text("Event") or None,
    )


def reply(message: WechatMessage, content: str) -> bytes:
    """The passive text reply: back to the customer, from the account."""
    root = Element("xml")
    for name, value in (
        ("ToUserName", message.from_user),
        ("FromUserName", message.to_user),
        ("CreateTime", str(int(time.time()))),
        ("MsgType", "text"),
        ("Content", content),
    ):
        SubElement(root, name).text = value
    return bytes(tostring(root, encoding="utf-8"))


class WechatSender:
    """Messages to WeChat customers through the official account's customer-service API (客服消息):
    an access token (grant_type=client_credential, kept until a minute before it expires) and
    POST /cgi-bin/message/custom/send with a text message to the customer's openid. WeChat takes them
    within 48 hours of the customer's last message to the account (errcode 45015 after that: the
    failure names it and the outbox retries, then gives up). A token WeChat calls invalid or expired
    (40001, 42001) is fetched again once."""

    def __init__(self, api_url: str, app_id: str, app_secret: str, *, timeout: float = 10.0) -> None:
        self.api_url, self.app_id, self.app_secret, self.timeout = api_url.rstrip("/"), app_id, app_secret, timeout
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _call(self, path: str, query: dict[str, str], body: dict[str, object] | None = None) -> dict[str, object]:
        url = f"{self.api_url}{path}?{urlencode(query)}"
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the configured API address
            url, data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # Not the URL: it carries the secret or the token.
            raise SendFailed(f"WeChat API: {type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
        if not isinstance(answer, dict):
            raise SendFailed("WeChat API: an answer that is not a JSON object")
        return answer

    def _access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
            answer = self._call(
                "/cgi-bin/token",
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
            )
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise SendFailed(f"WeChat token: {answer.get('errcode')} {answer.get('errmsg')}")
            lifetime = answer.get("expires_in")
            seconds = float(lifetime) if isinstance(lifetime, int | float) else 7200.0
            self._token = (token, time.monotonic() + max(seconds - 60, 0))
            return token

    def send(self, message: Outgoing) -> str | None:
        body: dict[str, object] = {"touser": message.address, "msgtype": "text", "text": {"content": message.body}}
        answer = self._call("/cgi-bin/message/custom/send", {"access_token": self._access_token()}, body)
        if answer.get("errcode") in (40001, 42001):
            answer = self._call("/cgi-bin/message/custom/send", {"access_token": self._access_token(fresh=True)}, body)
        if answer.get("errcode", 0) != 0:
            raise SendFailed(f"WeChat: {answer.get('errcode')} {answer.get('errmsg')}")
        return None
