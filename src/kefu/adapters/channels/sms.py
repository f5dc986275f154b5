"""SMS: the inbound webhook's signature, and two ways out — an HTTP gateway and SMPP to an SMSC."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from kefu.domain.values import same_secret
from kefu.services.ports import Outgoing, SendFailed

SIGNATURE_HEADER = "X-Kefu-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """HMAC-SHA256 of the raw body with the shared secret; no secret configured accepts nothing."""
    return bool(secret) and header is not None and same_secret(sign(secret, body), header.strip())


class HttpSmsGateway:
    """POSTs {"id", "to", "text"} as JSON, signed like the inbound webhook; the gateway splits long
    texts itself and answers {"id": "..."} (its message id)."""

    def __init__(self, url: str, secret: str, *, sender_id: str, timeout: float = 10.0) -> None:
        self.url, self.secret, self.sender_id, self.timeout = url, secret, sender_id, timeout

    def send(self, message: Outgoing) -> str | None:
        body = json.dumps(
            {"id": message.message_id, "from": self.sender_id, "to": message.address, "text": message.body},
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - configured URL
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.secret, body),
                "Idempotency-Key": message.message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SendFailed(f"SMS gateway: {exc}") from exc
        return str(answer.get("id")) if isinstance(answer, dict) and answer.get("id") else None


class SmppGateway:
    """SMPP 3.4 transmitter: bind, submit_sm per part (UCS-2 with a concatenation header for Chinese:
    67 characters a part), unbind. One connection per message keeps it simple and robust; a busy
    centre would keep a bound session open."""

    def __init__(self, url: str, *, sender_id: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)  # smpp://system_id:password@host:port
        if parts.scheme != "smpp" or not parts.hostname:
            raise ValueError("KEFU_SMS_GATEWAY for SMPP looks like smpp://system_id:password@host:2775")
        self.host, self.port = parts.hostname, parts.port or 2775
        self.system_id, self.password = unquote(parts.username or ""), unquote(parts.password or "")
        self.sender_id, self.timeout = sender_id, timeout

    def send(self, message: Outgoing) -> str | None:
        client = smpplib.client.Client(self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True)
        ids: list[str] = []
        client.set_message_sent_handler(lambda pdu: ids.append(_text(getattr(pdu, "message_id", None))))
        try:
            client.connect()
            client.bind_transmitter(system_id=self.system_id, password=self.password)
            parts, coding, esm_class = smpplib.gsm.make_parts(message.body)
            for part in parts:
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr=self.sender_id,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    destination_addr=_international(message.address),
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=False,
                )
                client.read_once()  # submit_sm_resp: its message id, or PDUError on an error status
            client.unbind()
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError) as exc:
            raise SendFailed(f"SMSC: {exc}") from exc
        finally:
            client.disconnect()
        return ",".join(i for i in ids if i) or None


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")


def _international(phone: str) -> str:
    return phone if phone.startswith("86") or not phone.startswith("1") else "86" + phone
