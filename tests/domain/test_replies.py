"""The default channel of a reply and the checks on its text (issue #12)."""

from __future__ import annotations

import pytest

from kefu.domain.errors import ValidationFailed
from kefu.domain.replies import MAX_BODY, ReplyChannel, clean_reply, default_channel
from kefu.domain.workorders import Channel

ALL = set(ReplyChannel)


@pytest.mark.parametrize(
    ("used", "reachable", "preferred", "expected"),
    [
        (Channel.SMS, ALL, None, ReplyChannel.SMS),
        (Channel.EMAIL, ALL, None, ReplyChannel.EMAIL),
        (Channel.WECHAT, ALL, None, ReplyChannel.WECHAT),
        (Channel.WEB, ALL, None, ReplyChannel.PORTAL),
        (Channel.HOTLINE, ALL, None, ReplyChannel.SMS),
        (Channel.EMAIL, {ReplyChannel.SMS, ReplyChannel.PORTAL}, None, ReplyChannel.SMS),
        (Channel.STORE, {ReplyChannel.WECHAT}, None, ReplyChannel.WECHAT),
        (Channel.HOTLINE, set(), None, None),
        (Channel.SMS, ALL, ReplyChannel.EMAIL, ReplyChannel.EMAIL),
        (Channel.SMS, {ReplyChannel.SMS}, ReplyChannel.EMAIL, ReplyChannel.SMS),
    ],
)
def test_default_channel(
    used: Channel, reachable: set[ReplyChannel], preferred: ReplyChannel | None, expected: ReplyChannel | None
) -> None:
    assert default_channel(used, reachable, preferred) is expected


@pytest.mark.parametrize("body", ["", "  \n ", "a\x00b", "a\x07b", "x" * (MAX_BODY + 1)])
def test_bad_texts_are_refused_naming_the_body(body: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_reply(body)
    assert refused.value.field == "body"


def test_a_text_is_trimmed_and_keeps_its_lines() -> None:
    assert clean_reply("  您好，\r\n\t明天上门。 ") == "您好，\n\t明天上门。"
    assert clean_reply("长" * MAX_BODY) == "长" * MAX_BODY
