"""The reply card of the work-order page on an installation without an SMS gateway, SMTP or WeChat
configured (the suite's default kefu): the portal is offered, and the card says why the customer's
phone is not (instead of leaving the agent to wonder)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import new_customer, new_work_order
from tests.support.pages import logged_in


def test_channels_without_a_sender_are_named_not_hidden(client: TestClient, kefu: Kefu) -> None:
    assert "sms" not in kefu.ctx.senders  # the suite's kefu sends nothing
    agent = logged_in(client, kefu, Role.AGENT)
    customer = new_customer(client, agent, email="li@example.cn")
    number = new_work_order(client, agent, customer["id"])["number"]
    page = client.get(f"/ui/work-orders/{number}").text
    assert 'value="portal"' in page and 'value="sms"' not in page
    note = page.split('id="reply-not-configured">', 1)[1].split("</p>", 1)[0]
    assert "未配置发送通道" in note and "短信" in note and "邮件" in note


def test_policy_names_kept_in_both_languages_show_in_the_pages_language(client: TestClient, kefu: Kefu) -> None:
    from kefu.web.kit import in_language

    assert in_language("默认 48小时 / Default 48 h", "zh_CN") == "默认 48小时"
    assert in_language("默认 48小时 / Default 48 h", "en") == "Default 48 h"
    assert in_language("农村宽带", "en") == "农村宽带"
    agent = logged_in(client, kefu, Role.AGENT)
    customer = new_customer(client, agent)
    number = new_work_order(client, agent, customer["id"])["number"]
    timeline = client.get(f"/ui/work-orders/{number}").text.split('id="timeline"', 1)[1]
    assert "时限: " in timeline and " / " not in timeline.split("时限: ", 1)[1].split("</span>", 1)[0]
