"""Inbound e-mail by polling an IMAP mailbox (`kefu mail-poller`), against a real Dovecot on 127.0.0.1
(tests/support/dovecot.py): a new mail opens a work order and is marked seen only after the intake
committed; an answer to our reply threads back by In-Reply-To; a failed intake leaves the mail for the
next round, a repeated one stores nothing twice; unreadable mail is flagged, not fed again; taken
mail can be moved to a done folder; IDLE wakes the poller at once. SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.header import Header
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from imapclient import IMAPClient
from sqlalchemy import text

from kefu.adapters.channels.imap import REFUSED, Mailbox, MailPoller
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.services.channels.intake import Inbound, receive
from kefu.services.sla.timers import deliver_outbox
from tests.support import ROOT
from tests.support.dovecot import Dovecot, dovecot
from tests.support.factories import make_actor


@pytest.fixture(scope="module")
def imap() -> Iterator[Dovecot]:
    with dovecot() as server:
        yield server


def _client(server: Dovecot, folder: str = "INBOX") -> IMAPClient:
    c = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    c.login(server.user, server.password)
    if not c.folder_exists(folder):
        c.create_folder(folder)
    c.select_folder(folder)
    return c


def _mail(sender: str, subject: str, body: str, **headers: str) -> bytes:
    msg = MIMEText(body, "plain", "gbk")
    msg["From"], msg["To"] = sender, "kefu@centre.example"
    msg["Subject"] = Header(subject, "gb2312").encode()
    msg["Message-ID"] = headers.pop("message_id", f"<{secrets.token_hex(6)}@example.cn>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg.as_bytes()


def _box(server: Dovecot, folder: str, **over: object) -> Mailbox:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "tls": "none",
        "folder": folder,
        "poll_seconds": 30.0,
        **over,
    }
    return Mailbox(**values)  # type: ignore[arg-type]


def _folder() -> str:
    return f"t{secrets.token_hex(4)}"  # each test its own folder: the module's Dovecot is shared


def _contacts(k: Kefu, address: str) -> list[tuple[str | None, str | None]]:
    with k.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT w.number, c.body FROM contacts c JOIN customers u ON u.id = c.customer_id "
                "LEFT JOIN work_orders w ON w.id = c.work_order_id WHERE u.email = :a AND c.direction = 'in' "
                "ORDER BY c.id"
            ),
            {"a": address},
        ).all()
    return [(r.number, r.body) for r in rows]


def test_a_polled_mail_opens_a_work_order_and_the_answer_to_our_reply_threads_back(
    imap: Dovecot, channel_kefu: Kefu, channel_client: TestClient, mailbox: tuple[int, list[bytes]]
) -> None:
    folder, address = _folder(), f"qian{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, _mail(f"钱八 <{address}>", "固话杂音很大", "家里固话一直有杂音，喆"))
    poller = MailPoller(_box(imap, folder), lambda i: receive(channel_kefu.ctx, i))
    assert poller.run(threading.Event(), once=True).taken == 1
    ((number, body),) = _contacts(channel_kefu, address)
    assert number and body == "家里固话一直有杂音，喆"
    # Marked seen only now; a second round takes nothing.
    c.select_folder(folder)
    assert c.search(["UNSEEN"]) == [] and len(c.search(["SEEN"])) == 1
    assert (
        MailPoller(_box(imap, folder), lambda i: receive(channel_kefu.ctx, i)).run(threading.Event(), once=True).taken
        == 0
    )

    # The agent replies by e-mail; the customer's answer (no number in its subject) threads back.
    while deliver_outbox(channel_kefu.ctx):  # the acknowledgement
        pass
    agent = make_actor(channel_kefu, Role.AGENT)
    r = channel_client.post(
        f"/api/v1/work-orders/{number}/replies", headers=agent.headers, json={"body": "您好，明天上门检测。"}
    )
    assert r.status_code == 202 and r.json()["channel"] == "email", r.text
    before = len(mailbox[1])
    while deliver_outbox(channel_kefu.ctx):
        pass
    ours = [
        m
        for m in (email.message_from_bytes(x, policy=email.policy.default) for x in mailbox[1][before:])
        if m["To"] == address
    ]
    assert len(ours) == 1
    c.append(folder, _mail(address, "回复", "好的，上午在家。", In_Reply_To=ours[0]["Message-ID"]))
    assert (
        MailPoller(_box(imap, folder), lambda i: receive(channel_kefu.ctx, i)).run(threading.Event(), once=True).taken
        == 1
    )
    assert _contacts(channel_kefu, address)[-1] == (number, "好的，上午在家。")
    history = channel_client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    assert history[-1]["kind"] == "contact_received"
    c.logout()


def test_nothing_acknowledged_is_lost_and_nothing_is_taken_twice(imap: Dovecot, channel_kefu: Kefu) -> None:
    folder, address = _folder(), f"sun{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, _mail(address, "网速慢", "晚上网速很慢"))
    c.append(folder, b"Subject: no sender\r\n\r\nnobody wrote this")

    def broken(_: Inbound) -> None:
        raise RuntimeError("the database is unreachable")

    first = MailPoller(_box(imap, folder), broken).run(threading.Event(), once=True)
    assert (first.taken, first.refused, first.failed) == (0, 1, 1)
    c.select_folder(folder)
    assert len(c.search(["UNSEEN"])) == 1  # the good one waits; the unreadable one is flagged
    flagged = c.search(["KEYWORD", REFUSED.decode()])
    assert len(flagged) == 1 and b"\\Seen" in c.get_flags(flagged)[flagged[0]]
    assert _contacts(channel_kefu, address) == []

    # Stored, then the process dies before marking it: the next round stores nothing new.
    def commit_then_crash(i: Inbound) -> None:
        receive(channel_kefu.ctx, i)
        raise RuntimeError("killed before the acknowledgement")

    assert MailPoller(_box(imap, folder), commit_then_crash).run(threading.Event(), once=True).failed == 1
    again = MailPoller(_box(imap, folder), lambda i: receive(channel_kefu.ctx, i)).run(threading.Event(), once=True)
    assert (again.taken, again.refused) == (1, 0)
    assert len(_contacts(channel_kefu, address)) == 1
    c.select_folder(folder)
    assert c.search(["UNSEEN"]) == []
    c.logout()


def test_taken_mail_is_moved_to_the_done_folder(imap: Dovecot, channel_kefu: Kefu) -> None:
    folder, done, address = _folder(), _folder(), f"li{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, _mail(address, "宽带报修", "光猫红灯"))
    c.append(folder, _mail(address, "补充", "", message_id=f"<{secrets.token_hex(6)}@example.cn>"))
    r = MailPoller(_box(imap, folder, done_folder=done), lambda i: receive(channel_kefu.ctx, i)).run(
        threading.Event(), once=True
    )
    assert r.taken == 2  # an empty body is taken by its subject
    c.select_folder(folder)
    assert c.search(["ALL"]) == []
    c.select_folder(done)
    assert len(c.search(["ALL"])) == 2
    assert len(_contacts(channel_kefu, address)) == 2
    c.logout()


def test_idle_wakes_the_poller_when_mail_arrives(imap: Dovecot, channel_kefu: Kefu) -> None:
    folder, address = _folder(), f"zhou{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    stop = threading.Event()
    poller = MailPoller(_box(imap, folder, poll_seconds=120.0), lambda i: receive(channel_kefu.ctx, i))
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # the first round found nothing; the poller now waits in IDLE
        c.append(folder, _mail(address, "IPTV 卡顿", "看电视一直卡"))
        deadline = time.monotonic() + 15
        while not _contacts(channel_kefu, address) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _contacts(channel_kefu, address), "IDLE did not wake the poller (it would wait 120 s)"
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    c.logout()


def test_the_mail_poller_command_takes_one_round(imap: Dovecot, tmp_path: Path) -> None:
    folder, address = _folder(), f"wu{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, _mail(address, "无法上网", "全家都上不了网"))
    c.logout()
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'poller.db'}",
        "KEFU_IMAP_HOST": "127.0.0.1",
        "KEFU_IMAP_PORT": str(imap.port),
        "KEFU_IMAP_TLS": "none",
        "KEFU_IMAP_USER": imap.user,
        "KEFU_IMAP_PASSWORD": imap.password,
        "KEFU_IMAP_FOLDER": folder,
        "NO_COLOR": "1",
    }

    def kefu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kefu.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )

    assert kefu("db", "upgrade").returncode == 0
    r = kefu("mail-poller", "--once")
    assert r.returncode == 0 and "took 1, refused 0" in r.stdout, r.stdout + r.stderr
    assert "took 0" in kefu("mail-poller", "--once").stdout
    missing = subprocess.run(
        [sys.executable, "-m", "kefu.cli", "mail-poller", "--once"],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if not k.startswith("KEFU_IMAP")},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2 and "KEFU_IMAP_HOST" in missing.stderr


@pytest.mark.parametrize(("tls", "port"), [("ssl", "tls_port"), ("starttls", "port")])
def test_the_mailbox_over_tls(imap: Dovecot, channel_kefu: Kefu, tls: str, port: str) -> None:
    import ssl

    folder, address = _folder(), f"tls{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, _mail(address, "加密连接", "经 TLS 收取"))
    c.logout()
    trusted = ssl.create_default_context(cafile=str(imap.certificate))
    box = _box(imap, folder, tls=tls, port=getattr(imap, port), ssl_context=trusted)
    assert MailPoller(box, lambda i: receive(channel_kefu.ctx, i)).run(threading.Event(), once=True).taken == 1
    assert len(_contacts(channel_kefu, address)) == 1
    # A server whose certificate is not trusted is refused: nothing is read.
    c = _client(imap, folder)
    c.append(folder, _mail(address, "第二封", "不应被读取"))
    c.logout()
    untrusted = _box(imap, folder, tls=tls, port=getattr(imap, port), ssl_context=ssl.create_default_context())
    with pytest.raises(ssl.SSLError):
        MailPoller(untrusted, lambda i: receive(channel_kefu.ctx, i)).run(threading.Event(), once=True)
    assert len(_contacts(channel_kefu, address)) == 1


def test_poison_and_oversized_mail_is_flagged_and_the_rest_still_comes_in(imap: Dovecot, channel_kefu: Kefu) -> None:
    # A Message-ID the mail library chokes on, and a message larger than the SMTP receiver would take:
    # both flagged refused (the oversized one never read into memory); the good mail still comes in.
    folder, address = _folder(), f"zhou{secrets.token_hex(4)}@example.cn"
    c = _client(imap, folder)
    c.append(folder, b"From: a@example.cn\r\nSubject: hi\r\nMessage-ID: <\r\n\r\nbody")
    c.append(folder, b"From: b@example.cn\r\nSubject: big\r\n\r\n" + b"x" * (5 * 2**20 + 2048))
    c.append(folder, _mail(address, "网速慢", "晚上网速很慢"))
    taken = MailPoller(_box(imap, folder, max_attachment=1024), lambda i: receive(channel_kefu.ctx, i)).run(
        threading.Event(), once=True
    )
    assert (taken.taken, taken.refused, taken.failed) == (1, 2, 0)
    c.select_folder(folder)
    assert len(c.search(["KEYWORD", REFUSED.decode()])) == 2 and c.search(["UNSEEN"]) == []
    assert len(_contacts(channel_kefu, address)) == 1
    c.logout()
