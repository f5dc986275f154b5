"""Real protocol peers on 127.0.0.1 for the channel tests: an SMSC (SMPP 3.4, built on smpplib's PDU
classes), an HTTP SMS gateway, and an SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import smpplib.smpp
from aiosmtpd.controller import Controller


class _Sequence:
    sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


@dataclass
class Smsc:
    """Accepts binds with the given credentials, keeps every submit_sm, answers with message ids."""

    system_id: str = "kefu"
    password: str = "secret"
    port: int = 0
    submitted: list[Any] = field(default_factory=list)
    binds: list[tuple[str, str]] = field(default_factory=list)

    def _serve(self, conn: socket.socket) -> None:
        seq = _Sequence()
        with conn:
            while True:
                head = conn.recv(4, socket.MSG_WAITALL)
                if len(head) < 4:
                    return
                (length,) = struct.unpack(">L", head)
                pdu = smpplib.smpp.parse_pdu(head + conn.recv(length - 4, socket.MSG_WAITALL), client=seq)
                kwargs: dict[str, Any] = {"sequence": pdu.sequence}
                status = 0
                if pdu.command.startswith("bind"):
                    creds = (pdu.system_id.decode(), pdu.password.decode())
                    self.binds.append(creds)
                    status = 0 if creds == (self.system_id, self.password) else 0x0E  # ESME_RINVPASWD
                    kwargs["system_id"] = "smsc"
                elif pdu.command == "submit_sm":
                    self.submitted.append(pdu)
                    kwargs["message_id"] = f"m{len(self.submitted)}"
                resp = smpplib.smpp.make_pdu(pdu.command + "_resp", client=seq, **kwargs)
                resp.status = status
                conn.sendall(resp.generate())
                if pdu.command == "unbind":
                    return

    def texts(self) -> list[str]:
        """The submitted messages reassembled from their parts (UCS-2 with a concatenation header)."""
        out, pending = [], b""
        for pdu in self.submitted:
            data = pdu.short_message
            if pdu.esm_class & 0x40:
                total, index = data[4], data[5]
                pending += data[6:]
                if index < total:
                    continue
                data, pending = pending, b""
            out.append(data.decode("utf-16-be") if pdu.data_coding == 8 else data.decode("ascii"))
        return out


@contextmanager
def smsc(**kwargs: Any) -> Iterator[Smsc]:
    server = Smsc(**kwargs)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    server.port = sock.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            threading.Thread(target=server._serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@dataclass
class SmsGateway:
    """An HTTP SMS gateway: records each POST (headers and JSON); `fail` makes it answer 503."""

    port: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@contextmanager
def sms_gateway() -> Iterator[SmsGateway]:
    state = SmsGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.fail:
                self.send_response(503)
                self.end_headers()
                return
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            answer = json.dumps({"id": f"gw-{len(state.requests)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _Keep:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    """An SMTP server on a free port that keeps every message it is given."""
    keep = _Keep()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(keep, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, keep.messages
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WechatPeer:
    """WeChat's side of an official account in safe mode (安全模式), written from WeChat's
    specification apart from kefu's adapter: builds encrypted, signed pushes and opens the
    encrypted replies. Uses the cryptography library's own PKCS#7 padder (block 256 bits)."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        import base64

        self.token, self.app_id = token, app_id
        self.key = base64.b64decode(encoding_aes_key + "=")

    def _cipher(self) -> Any:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def sign(self, *parts: str) -> str:
        import hashlib

        return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()

    def seal(self, xml: str) -> str:
        import base64
        import os

        from cryptography.hazmat.primitives import padding

        body = xml.encode()
        plain = os.urandom(16) + len(body).to_bytes(4, "big") + body + self.app_id.encode()
        padder = padding.PKCS7(256).padder()
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
        return base64.b64encode(sealed).decode()

    def push(self, xml: str, *, timestamp: str, nonce: str) -> tuple[dict[str, str], bytes]:
        """The query and body WeChat sends for `xml` in safe mode."""
        encrypted = self.seal(xml)
        query = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": self.sign(self.token, timestamp, nonce),
            "encrypt_type": "aes",
            "msg_signature": self.sign(self.token, timestamp, nonce, encrypted),
        }
        body = f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return query, body.encode()

    def open_reply(self, reply: bytes) -> str:
        """The reply's XML, after checking its signature and its AppID."""
        import base64
        from xml.etree import ElementTree

        from cryptography.hazmat.primitives import padding

        root = ElementTree.fromstring(reply)
        encrypted = root.findtext("Encrypt") or ""
        signed = self.sign(self.token, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypted)
        assert signed == root.findtext("MsgSignature"), "the reply's MsgSignature"
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        unpadder = padding.PKCS7(256).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        length = int.from_bytes(plain[16:20], "big")
        assert plain[20 + length :].decode() == self.app_id, "the reply's AppID"
        return plain[20 : 20 + length].decode()


@dataclass
class WechatApi:
    """WeChat's customer-service API as an official account meets it (written from WeChat's
    documentation): GET /cgi-bin/token (client_credential) hands out access tokens; POST
    /cgi-bin/message/custom/send takes a text message for an openid with a valid token. Openids in
    `out_of_window` get errcode 45015 (the customer has not written within 48 hours); `expire()`
    makes the tokens handed out so far expired (42001)."""

    app_id: str
    app_secret: str
    port: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    out_of_window: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire(self) -> None:
        self.tokens.clear()


@contextmanager
def wechat_api(app_id: str, app_secret: str) -> Iterator[WechatApi]:
    import secrets
    from urllib.parse import parse_qs, urlsplit

    state = WechatApi(app_id, app_secret)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, payload: dict[str, Any]) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path != "/cgi-bin/token" or q.get("grant_type") != "client_credential":
                self._answer({"errcode": 40013, "errmsg": "invalid request"})
            elif (q.get("appid"), q.get("secret")) != (state.app_id, state.app_secret):
                self._answer({"errcode": 40125, "errmsg": "invalid appsecret"})
            else:
                state.token_requests += 1
                token = secrets.token_hex(16)
                state.tokens.add(token)
                self._answer({"access_token": token, "expires_in": 7200})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            token = parse_qs(parts.query).get("access_token", [""])[0]
            message = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if parts.path != "/cgi-bin/message/custom/send":
                self._answer({"errcode": 40013, "errmsg": "invalid request"})
            elif token not in state.tokens:
                self._answer({"errcode": 42001, "errmsg": "access_token expired"})
            elif message.get("touser") in state.out_of_window:
                self._answer({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"})
            else:
                state.sent.append(message)
                self._answer({"errcode": 0, "errmsg": "ok"})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
