"""Inbound e-mail from an IMAP mailbox (`kefu mail-poller`), the way an operator connects a helpdesk
to its existing mail server: each new message goes through the same intake as the SMTP receiver,
and only after the intake committed is it marked seen (or moved to the done folder). Nothing
acknowledged is lost: a crash between the commit and the mark feeds the message again, and the
intake recognises it by its Message-ID (a message without one by the mailbox's UIDVALIDITY and
UID) and stores nothing new. Where the server offers IDLE it is told of new mail at once; else it
looks every `poll_seconds`.

A message the intake can never take (not MIME, no sender, empty) is marked seen and flagged
$KefuRefused, so a person finds it in the mailbox and it is not fed again; a failure that may pass
(the database unreachable) leaves the message as it was for the next round."""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from kefu.adapters.channels.mail import Unreadable, parse
from kefu.domain.attachments import MAX_ATTACHMENT
from kefu.domain.errors import DomainError
from kefu.services.channels.intake import Inbound

log = logging.getLogger("kefu.mail")

REFUSED = b"$KefuRefused"
#: Messages fetched per round trip (their bodies are held in memory together).
BATCH = 20


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    tls: str = "ssl"  # ssl, starttls or none
    folder: str = "INBOX"
    done_folder: str = ""
    poll_seconds: float = 60.0
    timeout: float = 30.0
    max_attachment: int = MAX_ATTACHMENT
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class Round:
    taken: int = 0  # given to the intake and acknowledged (duplicates included)
    refused: int = 0  # could never be taken: flagged in the mailbox
    failed: int = 0  # left for the next round


class MailPoller:
    def __init__(self, box: Mailbox, take: Callable[[Inbound], object]) -> None:
        self.box, self.take = box, take
        self.client: Any = None
        self._uidvalidity = 0

    # --- the connection -------------------------------------------------------------------------
    def connect(self) -> None:
        b = self.box
        client = IMAPClient(
            b.host, port=b.port, ssl=b.tls == "ssl", ssl_context=b.ssl_context, timeout=b.timeout, use_uid=True
        )
        if b.tls == "starttls":
            client.starttls(b.ssl_context)
        client.login(b.user, b.password)
        if b.done_folder and not client.folder_exists(b.done_folder):
            client.create_folder(b.done_folder)
        selected = client.select_folder(b.folder)
        self._uidvalidity = int(selected.get(b"UIDVALIDITY", 0))
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                self.client.logout()
            self.client = None

    # --- one round ------------------------------------------------------------------------------
    def poll(self) -> Round:
        """Feed every message waiting in the folder to the intake; acknowledge what it took."""
        if self.client is None:
            self.connect()
        criteria: list[Any] = ["NOT", "KEYWORD", REFUSED.decode()]
        criteria = ["UNSEEN", *criteria] if not self.box.done_folder else ["NOT", "DELETED", *criteria]
        uids = sorted(self.client.search(criteria))
        result = Round()
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            # The size first: a message larger than the SMTP receiver would take is never read into
            # memory, only flagged refused (what the receiver answers with 552).
            sizes = self.client.fetch(chunk, ["RFC822.SIZE"])
            too_big = [u for u in chunk if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) > self.max_message]
            for uid in too_big:
                log.warning("IMAP message %s refused: larger than %s bytes", uid, self.max_message)
                self._refuse(uid)
                result = replace(result, refused=result.refused + 1)
            chunk = [u for u in chunk if u not in too_big]
            if not chunk:
                continue
            # BODY.PEEK: reading a message does not mark it seen; only the acknowledgement does.
            fetched = self.client.fetch(chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue
                result = self._one(uid, bytes(raw), result)
        if self.box.done_folder and result.taken and not self.client.has_capability("MOVE"):
            self.client.expunge()
        return result

    @property
    def max_message(self) -> int:
        """The largest message read: what the SMTP receiver accepts (the attachment limit and 5 MB)."""
        return self.box.max_attachment + 5 * 2**20

    def _one(self, uid: int, raw: bytes, result: Round) -> Round:
        try:
            inbound = parse(raw, max_attachment=self.box.max_attachment)
        except Unreadable as exc:
            log.warning("IMAP message %s refused: %s", uid, exc)
            self._refuse(uid)
            return replace(result, refused=result.refused + 1)
        if not inbound.provider_message_id:
            inbound = replace(inbound, provider_message_id=f"imap:{self._uidvalidity}:{uid}")
        try:
            self.take(inbound)
        except DomainError as exc:  # e.g. an empty message: taking it again would not help
            log.warning("IMAP message %s refused by the intake: %s", uid, exc.code)
            self._refuse(uid)
            return replace(result, refused=result.refused + 1)
        except Exception:
            log.exception("intake failed for IMAP message %s; it stays for the next round", uid)
            return replace(result, failed=result.failed + 1)
        self._acknowledge(uid)
        return replace(result, taken=result.taken + 1)

    def _acknowledge(self, uid: int) -> None:
        """After the intake committed: seen, or moved to the done folder."""
        if self.box.done_folder:
            if self.client.has_capability("MOVE"):
                self.client.move([uid], self.box.done_folder)
            else:
                self.client.copy([uid], self.box.done_folder)
                self.client.delete_messages([uid])
        else:
            self.client.add_flags([uid], [b"\\Seen"])

    def _refuse(self, uid: int) -> None:
        self.client.add_flags([uid], [b"\\Seen", REFUSED])

    # --- waiting ---------------------------------------------------------------------------------
    def wait(self, stop: threading.Event) -> None:
        """Until new mail may be there: an IDLE (where offered) that ends on news, or after
        poll_seconds; otherwise a plain pause."""
        if self.client is None or not self.client.has_capability("IDLE"):
            stop.wait(self.box.poll_seconds)
            return
        self.client.idle()
        try:
            waited = 0.0
            while not stop.is_set() and waited < self.box.poll_seconds:
                step = min(5.0, self.box.poll_seconds - waited)
                if self.client.idle_check(timeout=step):
                    break
                waited += step
        finally:
            self.client.idle_done()

    def run(self, stop: threading.Event, *, once: bool = False) -> Round:
        """Poll, wait, poll … until `stop` (with `once`: one round). A lost connection is made again
        after a pause that grows to five minutes."""
        total, pause = Round(), 5.0
        while not stop.is_set():
            try:
                r = self.poll()
                total = Round(total.taken + r.taken, total.refused + r.refused, total.failed + r.failed)
                if r.taken or r.refused:
                    log.info("IMAP: took %d messages, refused %d", r.taken, r.refused)
                pause = 5.0
                if once:
                    break
                self.wait(stop)
            except (TimeoutError, IMAPClientError, OSError) as exc:
                log.warning("IMAP connection failed (%s); trying again in %.0f s", type(exc).__name__, pause)
                self.close()
                if once:
                    raise
                stop.wait(pause)
                pause = min(pause * 2, 300.0)
        self.close()
        return total
