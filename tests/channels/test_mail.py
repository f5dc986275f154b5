"""E-mail: MIME parsing (Chinese charsets, HTML, attachments, auto-replies, bounces), the SMTP
receiver end to end, and replies over SMTP to a real server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import secrets
import smtplib
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text

from kefu.adapters.channels.mail import MailHandler, Unreadable, parse
from kefu.bootstrap import Kefu
from kefu.services.channels.intake import receive
from kefu.services.sla.timers import deliver_outbox
from tests.support.peers import free_port


def gbk_mail(
    sender: str = "张三 <zhangsan@example.cn>", *, subject: str = "宽带断网", body: str = "光猫红灯，喆"
) -> bytes:
    msg = MIMEText(body, "plain", "gbk")
    msg["Subject"] = Header(subject, "gb2312").encode()
    msg["From"] = sender
    msg["To"] = "kefu@centre.example"
    msg["Message-ID"] = f"<{secrets.token_hex(6)}@example.cn>"
    return msg.as_bytes()


def test_chinese_charsets_subject_and_sender_are_read() -> None:
    inbound = parse(gbk_mail())
    assert inbound.subject == "宽带断网" and inbound.body == "光猫红灯，喆" and inbound.name == "张三"
    assert inbound.email == "zhangsan@example.cn" and inbound.may_open and inbound.provider_message_id
    # Declared GB2312 but holding a GBK-only character (喆): read as GB18030, not as mojibake.
    raw = gbk_mail().replace(b'charset="gbk"', b'charset="gb2312"')
    assert parse(raw).body == "光猫红灯，喆"
    utf8 = MIMEText("<p>网速<b>很慢</b></p><script>x()</script>", "html", "utf-8")
    utf8["From"] = "li@example.cn"
    assert parse(utf8.as_bytes()).body == "网速很慢"


def test_attachments_within_limits_are_kept_others_refused() -> None:
    msg = MIMEMultipart()
    msg["From"] = "li@example.cn"
    msg["Subject"] = "截图"
    msg.attach(MIMEText("见附件", "plain", "utf-8"))
    for name, data, subtype in (
        ("screen.png", b"\x89PNG" + b"0" * 100, "png"),
        ("huge.png", b"0" * 2048, "png"),
        ("run.exe", b"MZ", "x-msdownload"),
    ):
        part = MIMEApplication(data, subtype)
        part.replace_header("Content-Type", f"{'image' if subtype == 'png' else 'application'}/{subtype}")
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    inbound = parse(msg.as_bytes(), max_attachment=1024)
    assert [a.filename for a in inbound.attachments] == ["screen.png"]
    assert [a["filename"] for a in inbound.data["refused_attachments"]] == ["huge.png", "run.exe"]


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "Precedence: bulk",
        "Subject: 自动回复: 我正在休假",
        "From: MAILER-DAEMON@mx.example.cn",
    ],
)
def test_auto_replies_and_bounces_are_never_answered(header: str) -> None:
    name, value = header.split(": ", 1)
    msg = email.message_from_bytes(gbk_mail(), policy=email.policy.default)
    if name in msg:
        del msg[name]
    msg[name] = value
    inbound = parse(msg.as_bytes())
    assert not inbound.may_open and not inbound.answer and inbound.data["automatic"]


def test_unreadable_mail_is_refused_with_a_reason() -> None:
    with pytest.raises(Unreadable, match="sender"):
        parse(b"Subject: hi\r\n\r\nno sender here")


def test_mail_through_the_smtp_receiver_and_the_answer_over_smtp(
    channel_kefu: Kefu, mailbox: tuple[int, list[bytes]]
) -> None:
    port = free_port()
    controller = Controller(MailHandler(lambda i: receive(channel_kefu.ctx, i)), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        address = f"wang{secrets.token_hex(4)}@example.cn"
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail(address, ["kefu@centre.example"], gbk_mail(f"王五 <{address}>", subject="固话没有拨号音"))
            # An out-of-office answer to our answer: stored, never answered, opens nothing.
            auto = email.message_from_bytes(gbk_mail(address, subject="自动回复：休假中"), policy=email.policy.default)
            smtp.sendmail(address, ["kefu@centre.example"], auto.as_bytes())
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail(address, ["kefu@centre.example"], b"Subject: x\r\n\r\nno From header")
            assert refused.value.smtp_code == 550
    finally:
        controller.stop()
    with channel_kefu.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.subject, c.work_order_id, w.number, w.title FROM contacts c "
                "JOIN customers u ON u.id = c.customer_id LEFT JOIN work_orders w "
                "ON w.id = c.work_order_id WHERE u.email = :a ORDER BY c.id"
            ),
            {"a": address},
        ).all()
    # The auto-reply is kept on the same work order's history (an agent may want to know), unanswered.
    assert len(rows) == 2 and rows[0].title == "固话没有拨号音" and rows[1].work_order_id == rows[0].work_order_id
    number = rows[0].number
    before = len(mailbox[1])
    while deliver_outbox(channel_kefu.ctx):
        pass
    answers = [email.message_from_bytes(m, policy=email.policy.default) for m in mailbox[1][before:]]
    mine = [m for m in answers if m["To"] == address]
    assert len(mine) == 1  # one answer: the auto-reply got none, so no loop
    assert number in mine[0]["Subject"] and mine[0]["Auto-Submitted"] == "auto-replied"
    assert number in mine[0].get_content()


def test_attachments_are_kept_and_served_to_those_who_may_see_them(
    channel_kefu: Kefu, channel_client: TestClient
) -> None:
    from kefu.domain.org import Role
    from tests.support.factories import make_actor, new_user

    address = f"li{secrets.token_hex(4)}@example.cn"
    msg = MIMEMultipart()
    msg["From"], msg["Subject"], msg["Message-ID"] = address, "路由器截图", f"<{secrets.token_hex(6)}@example.cn>"
    msg.attach(MIMEText("见截图", "plain", "utf-8"))
    picture = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(300)
    part = MIMEApplication(picture, "png")
    part.replace_header("Content-Type", "image/png")
    part.add_header("Content-Disposition", "attachment", filename="路由器.png")
    msg.attach(part)
    result = receive(channel_kefu.ctx, parse(msg.as_bytes()))
    assert result.opened and result.contact.id is not None
    agent = make_actor(channel_kefu, Role.AGENT)
    timeline = channel_client.get(f"/api/v1/customers/{result.customer_id}/timeline", headers=agent.headers).json()
    url = next(i["contact"]["attachments"][0]["url"] for i in timeline if i["kind"] == "contact")
    r = channel_client.get(url, headers=agent.headers)
    assert r.status_code == 200 and r.content == picture and r.headers["content-type"] == "image/png"
    assert "sandbox" in r.headers["content-security-policy"]
    # On the agent's page, beside the work order, the file is a link.
    import re

    from tests.support.pages import login

    login(channel_client, agent.username)
    assert result.work_order is not None
    page = channel_client.get(f"/ui/work-orders/{result.work_order.number}")
    link = re.search(r'href="(/ui/contacts/\d+/attachments/0)"', page.text)
    assert link and channel_client.get(link.group(1)).content == picture
    # Out of scope (a vendor) and unknown files are "not found".
    vendor_org = channel_client.post(
        "/api/v1/organisations",
        headers=make_actor(channel_kefu, Role.ADMIN).headers,
        json={"name": f"厂商{secrets.token_hex(3)}", "kind": "vendor"},
    ).json()["id"]
    from kefu.services.access.tokens import create_api_token

    vendor = new_user(channel_kefu, Role.AGENT, prefix="v", organisation_id=vendor_org)
    token = create_api_token(channel_kefu.ctx, vendor.username, name="tests").token
    assert channel_client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert channel_client.get(url[:-1] + "7", headers=agent.headers).status_code == 404


@pytest.mark.parametrize("message_id", ["<", "<a@[b", "<a@["])
def test_a_mail_with_a_broken_message_id_is_unreadable_not_a_crash(message_id: str) -> None:
    # The mail library raises IndexError and friends on these: the SMTP receiver and the IMAP poller
    # refuse the one mail (and the poller flags it) instead of stopping on it for good.
    raw = f"From: a@example.cn\r\nSubject: hi\r\nMessage-ID: {message_id}\r\n\r\nbody".encode()
    with pytest.raises(Unreadable):
        parse(raw)


def test_a_subject_with_line_breaks_comes_in_and_goes_out_on_one_line() -> None:
    from kefu.adapters.channels.mail import SmtpSender
    from kefu.services.ports import Outgoing
    from tests.support.peers import smtp_sink

    hostile = "=?utf-8?b?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?="  # "x\r\nBcc: victim@example.com"
    got = parse(f"From: a@example.cn\r\nSubject: {hostile}\r\n\r\nbody".encode())
    assert got.subject == "x Bcc: victim@example.com"
    with smtp_sink() as (port, kept):
        sender = SmtpSender(f"smtp://127.0.0.1:{port}", sender="kefu@centre.example")
        sender.send(Outgoing("kefu-1", "email", "chen@example.cn", "Re: x\r\nBcc: victim@example.com", "好的"))
        mail = email.message_from_bytes(kept[-1], policy=email.policy.default)
    assert mail["Subject"] == "Re: x Bcc: victim@example.com" and mail["Bcc"] is None
