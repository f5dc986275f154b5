"""SMS over SMPP against a real SMSC on 127.0.0.1 (smpplib on both ends)."""

from __future__ import annotations

import pytest

from kefu.adapters.channels.sms import SmppGateway
from kefu.domain.contacts import sms_parts
from kefu.services.ports import Outgoing, SendFailed
from tests.support.peers import free_port, smsc

LONG = (
    "您好，您反映的宽带故障已受理，工单号 GD20261122000123。我们承诺在 2026-11-23 18:00 前处理完毕，"
    "如需补充情况请回复本短信并注明工单号，谢谢。"
)


def message(text: str) -> Outgoing:
    return Outgoing(message_id="kefu-1", channel="sms", address="13912345678", subject=None, body=text)


def test_a_long_chinese_text_goes_as_concatenated_ucs2_parts() -> None:
    assert len(LONG) > 70 and len(sms_parts(LONG)) == 2  # 67 characters a part
    with smsc() as peer:
        gateway = SmppGateway(f"smpp://kefu:secret@127.0.0.1:{peer.port}", sender_id="10086")
        ids = gateway.send(message(LONG))
        assert len(peer.submitted) == len(sms_parts(LONG)) == 2
        assert all(p.data_coding == 8 and p.esm_class & 0x40 for p in peer.submitted)
        assert [len(p.short_message) - 6 for p in peer.submitted] == [67 * 2, (len(LONG) - 67) * 2]
        assert peer.texts() == [LONG]
        assert peer.submitted[0].destination_addr == b"8613912345678" and peer.binds == [("kefu", "secret")]
        assert ids == "m1,m2"


def test_a_short_text_is_one_part() -> None:
    with smsc() as peer:
        SmppGateway(f"smpp://kefu:secret@127.0.0.1:{peer.port}", sender_id="10086").send(message("验证码 123456"))
        assert len(peer.submitted) == 1 and peer.texts() == ["验证码 123456"]


def test_wrong_credentials_and_an_unreachable_smsc_fail_so_the_outbox_retries() -> None:
    with smsc() as peer, pytest.raises(SendFailed):
        SmppGateway(f"smpp://kefu:wrong@127.0.0.1:{peer.port}", sender_id="10086").send(message("x"))
    with pytest.raises(SendFailed):
        SmppGateway(f"smpp://kefu:secret@127.0.0.1:{free_port()}", sender_id="10086", timeout=2).send(message("x"))
