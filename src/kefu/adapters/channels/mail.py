"""E-mail: MIME in (GB2312, GBK, UTF-8 …, attachments with size and type limits, auto-replies and
bounces recognised so that no mail loop starts), SMTP out, and the SMTP receiver `kefu mail-receiver`
runs (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import re
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urlsplit

from kefu.domain.attachments import MAX_ATTACHMENT, allowed_type, clean_filename
from kefu.domain.contacts import Attachment
from kefu.domain.errors import DomainError
from kefu.domain.workorders import Channel
from kefu.services.channels.intake import Inbound
from kefu.services.ports import Outgoing, SendFailed

log = logging.getLogger("kefu.mail")

_AUTO_SUBJECTS = (
    "自动回复",
    "auto:",
    "automatic reply",
    "out of office",
    "autoreply",
    "undeliverable",
    "delivery status notification",
    "退信",
    "系统退信",
)


class Unreadable(ValueError):
    """Not an e-mail kefu can take (no sender, not MIME); the sender gets a clear SMTP error."""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _decoded(part: EmailMessage) -> str:
    """The text of a part in its declared charset; GB2312 mail often holds GBK characters, so
    Chinese charsets are read as GB18030 (their superset), and undecodable bytes are replaced."""
    raw = part.get_payload(decode=True) or b""
    assert isinstance(raw, bytes)
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "euc-cn", "cp936"):
        charset = "gb18030"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _decoded(part)  # type: ignore[arg-type]
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(text)
        text = "".join(parser.parts)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def is_automatic(msg: EmailMessage) -> str | None:
    """Why this mail must not be answered (RFC 3834 and the usual headers), or None."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return "auto-submitted"
    if (
        msg.get_content_type() == "multipart/report"
        or str(msg.get("From", "")).lower().startswith(("mailer-daemon", "postmaster"))
        or "mailer-daemon@" in str(msg.get("From", "")).lower()
    ):
        return "bounce"
    if any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return "auto-reply"
    if str(msg.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    if str(msg.get("Subject", "")).strip().lower().startswith(_AUTO_SUBJECTS):
        return "auto-reply"
    return None


_MESSAGE_ID = re.compile(r"<[^<>\s]{1,240}>")


def message_ids(msg: EmailMessage) -> list[str]:
    """The Message-IDs an answer names, the one it answers first (In-Reply-To, then References from
    the newest), at most 20: how it threads back onto its work order."""
    found: list[str] = []
    for header in ("In-Reply-To", "References"):
        try:
            value = str(msg.get(header, "") or "")
        except (ValueError, LookupError):
            continue
        ids = _MESSAGE_ID.findall(value)
        for mid in ids if header == "In-Reply-To" else reversed(ids):
            if mid not in found:
                found.append(mid)
    return found[:20]


def parse(raw: bytes, *, max_attachment: int = MAX_ATTACHMENT) -> Inbound:
    """An e-mail as the intake's `Inbound`. Attachments too large or of a refused type are left out
    and listed in `data["refused_attachments"]`; the message itself still comes in."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; anything it still refuses is unreadable
        raise Unreadable(f"not a MIME message: {exc}") from exc
    assert isinstance(msg, EmailMessage)
    try:
        return _read(msg, max_attachment)
    except Unreadable:
        raise
    except Exception as exc:  # the mail library raises many kinds on hostile headers ("Message-ID: <")
        raise Unreadable(f"unreadable headers or parts ({type(exc).__name__})") from exc


def _one_line(value: str) -> str:
    """A header value on one line: CR, LF and other control characters become spaces (a subject is
    a work order's title, and comes back in the Subject of the reply)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _read(msg: EmailMessage, max_attachment: int) -> Inbound:
    try:
        name, address = email.utils.parseaddr(str(msg.get("From", "")))
        if "<" in address:  # a whole "name <address>" encoded as one word, as some mailers do
            name, address = email.utils.parseaddr(address)
    except (ValueError, IndexError):
        name, address = "", ""
    if "@" not in address:
        raise Unreadable("the message has no sender address (From)")
    try:
        subject = _one_line(str(msg.get("Subject", "")))
    except (ValueError, LookupError):
        subject = ""
    attachments, refused = [], []
    for part in msg.iter_attachments():
        content = part.get_payload(decode=True) or b""
        size = len(content) if isinstance(content, bytes) else 0
        item = Attachment(
            filename=clean_filename(str(part.get_filename() or "")),
            content_type=part.get_content_type(),
            size=size,
            content=content if isinstance(content, bytes) else None,
        )
        if size > max_attachment or not allowed_type(item.content_type):
            refused.append(item.describe())
        else:
            attachments.append(item)
    why = is_automatic(msg)
    data: dict[str, object] = {"message_id": str(msg.get("Message-ID", "")).strip()}
    if thread := message_ids(msg):
        data["thread"] = thread
    if refused:
        data["refused_attachments"] = refused
    if why:
        data["automatic"] = why
    body = _body(msg)
    return Inbound(
        channel=Channel.EMAIL,
        body=body or subject,
        subject=subject[:300] or None,
        provider_message_id=str(msg.get("Message-ID", "")).strip()[:200] or None,
        email=address.strip().lower(),
        name=_one_line(name) or None,
        attachments=tuple(attachments),
        data=data,
        may_open=why is None,
        answer=why is None,
    )


class SmtpSender:
    """Replies over SMTP (smtp://host:port, smtps:// for TLS, user:password@ for AUTH). Every message
    says it is an automatic answer (Auto-Submitted), so well-behaved auto-responders stay quiet."""

    def __init__(self, url: str, *, sender: str, timeout: float = 15.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("KEFU_SMTP_URL looks like smtp://host:25 or smtps://user:password@host:465")
        self.parts, self.sender, self.timeout = parts, sender, timeout

    def send(self, message: Outgoing) -> str | None:
        try:
            mail = self._compose(message)
        except (ValueError, TypeError, LookupError) as exc:  # a header the mail library refuses: never again
            raise SendFailed(f"the message cannot be written as e-mail: {exc}") from exc
        p = self.parts
        try:
            cls = smtplib.SMTP_SSL if p.scheme == "smtps" else smtplib.SMTP
            with cls(p.hostname or "", p.port or (465 if p.scheme == "smtps" else 25), timeout=self.timeout) as smtp:
                if p.username:
                    smtp.login(p.username, p.password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise SendFailed(f"SMTP: {exc}") from exc
        return str(mail["Message-ID"])

    def _compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = _one_line(message.address)
        subject = _one_line(message.subject or "")
        if message.work_order_number and message.work_order_number not in subject:
            subject = f"{subject} [{message.work_order_number}]".strip()
        mail["Subject"] = subject
        domain = self.sender.rpartition("@")[2] or "kefu.local"
        mail["Message-ID"] = f"<{message.message_id}@{domain}>"
        if message.in_reply_to:
            # An answer to the customer's mail: their client shows it in the same conversation.
            mail["In-Reply-To"] = message.in_reply_to
        if message.references or message.in_reply_to:
            refs = list(message.references)
            if message.in_reply_to and message.in_reply_to not in refs:
                refs.append(message.in_reply_to)
            mail["References"] = " ".join(refs)
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content(message.body)
        return mail


class MailHandler:
    """aiosmtpd handler: each accepted message goes through the intake; what cannot be read is
    refused with a sentence (550), and nothing acknowledged is lost."""

    def __init__(self, take: Callable[[Inbound], object], *, max_attachment: int = MAX_ATTACHMENT) -> None:
        self.take, self.max_attachment = take, max_attachment

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import asyncio

        raw = getattr(envelope, "original_content", None) or getattr(envelope, "content", None) or b""
        try:
            inbound = parse(raw, max_attachment=self.max_attachment)
        except Unreadable as exc:
            return f"550 5.6.0 {exc}"
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.take, inbound)
        except DomainError as exc:  # e.g. an empty message: retrying would not help
            return f"550 5.6.0 {exc.message}"
        except Exception:
            # Neither the sender's address nor the text: the mail is retried by the sending server.
            log.exception("intake failed for an inbound mail; the sender is asked to try again")
            return "451 4.3.0 temporary failure, try again later"
        return "250 2.0.0 OK: taken"
