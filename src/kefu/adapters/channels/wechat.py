"""WeChat official account (公众号) message push: URL verification, signed requests, XML text
messages in, passive reply XML out."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_XML = 64 * 1024


def signature(token: str, timestamp: str, nonce: str) -> str:
    """SHA1 of the token, timestamp and nonce sorted and joined (WeChat's server verification)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def signature_ok(token: str, timestamp: str | None, nonce: str | None, given: str | None) -> bool:
    if not token or not timestamp or not nonce or not given:
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), given.strip().lower())


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


def parse(body: bytes) -> WechatMessage:
    if len(body) > MAX_XML:
        raise BadXml("the message is larger than 64 kB")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise BadXml(f"not well-formed XML: {exc}") from exc

    def text(name: str) -> str:
        node = root.find(name)
        return (node.text or "").strip() if node is not None else ""

    if root.tag != "xml" or not text("FromUserName") or not text("MsgType"):
        raise BadXml("expected <xml> with ToUserName, FromUserName, MsgType (WeChat's message format)")
    created = text("CreateTime")
    return WechatMessage(
        to_user=text("ToUserName"),
        from_user=text("FromUserName"),
        create_time=int(created) if created.isdigit() else int(time.time()),
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
