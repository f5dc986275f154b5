"""What makes a notification to staff, on SQLite and PostgreSQL: each kind reaches whom it should,
never the one who acted and never someone who may not see the work order; copies go by e-mail and
SMS to a real SMTP server and SMS gateway on 127.0.0.1 as each user chose."""

from __future__ import annotations

import email
import secrets
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import text

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.org import Role
from kefu.services.sla.timers import deliver_outbox
from tests.channels.conftest import SMS_SECRET
from tests.channels.test_sms_and_wechat import post_sms
from tests.support.databases import Database
from tests.support.factories import Actor, make_actor, new_customer, new_organisation, new_team, new_work_order
from tests.support.kefus import make_kefu
from tests.support.pages import login
from tests.support.peers import SmsGateway


class Province:
    """Two provinces: in P a reception (two agents, a supervisor) and a field team (a lead, an
    engineer); in Q an agent who sees nothing of P."""

    def __init__(self, client: TestClient, kefu: Kefu) -> None:
        admin = make_actor(kefu, Role.ADMIN)
        p = new_organisation(client, admin, "甲省", "province")
        q = new_organisation(client, admin, "乙省", "province")
        self.reception = new_team(client, admin, p, "接待组", "reception")
        self.field = new_team(client, admin, p, "现场组", "field_repair")
        q_team = new_team(client, admin, q, "乙省接待组", "reception")
        self.agent = make_actor(kefu, Role.AGENT, self.reception)
        self.colleague = make_actor(kefu, Role.AGENT, self.reception)
        self.supervisor = make_actor(kefu, Role.SUPERVISOR, self.reception)
        self.lead = make_actor(kefu, Role.SUPERVISOR, self.field)
        self.engineer = make_actor(kefu, Role.FIELD_ENGINEER, self.field)
        self.stranger = make_actor(kefu, Role.AGENT, q_team)
        self.everyone = (self.agent, self.colleague, self.supervisor, self.lead, self.engineer, self.stranger)


def _told(client: TestClient, k: Kefu, who: Actor, number: str) -> list[dict[str, Any]]:
    """What `who` was told about work order `number` (after the worker delivered the outbox)."""
    while deliver_outbox(k.ctx):
        pass
    r = client.get("/api/v1/notifications", headers=who.headers, params={"limit": "200"})
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["work_order"] == number]


def _kinds(client: TestClient, k: Kefu, p: Province, number: str) -> dict[str, list[str]]:
    return {a.username: sorted(n["kind"] for n in _told(client, k, a, number)) for a in p.everyone}


def test_each_kind_reaches_whom_it_should_and_never_the_actor_or_an_outsider(
    channel_client: TestClient, channel_kefu: Kefu
) -> None:
    c, k = channel_client, channel_kefu
    p = Province(c, k)
    phone = "139" + f"{secrets.randbelow(10**8):08d}"
    customer = new_customer(c, p.agent, name="赵先生", phone=phone)
    number = new_work_order(c, p.agent, customer["id"])["number"]
    assert all(not kinds for kinds in _kinds(c, k, p, number).values())  # registering tells nobody

    # Dispatched to the field team: its lead and engineer hear of it; the sender does not.
    r = c.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=p.agent.headers,
        json={"to_team_id": p.field, "instruction": "请上门检查光猫"},
    )
    assert r.status_code == 201, r.text
    hop = r.json()["id"]
    kinds = _kinds(c, k, p, number)
    assert kinds[p.lead.username] == ["dispatched"] and kinds[p.engineer.username] == ["dispatched"]
    assert not kinds[p.agent.username] and not kinds[p.stranger.username]
    told = _told(c, k, p.engineer, number)[0]
    assert told["details"]["dispatch_id"] == hop and told["details"]["status"] == "pending"
    assert told["link"] == f"/api/v1/work-orders/{number}" and told["label"] == "Dispatched to my team"

    # The hop answered (accepted, then returned): the sender is told each time, the engineer never.
    assert c.post(f"/api/v1/dispatches/{hop}/accept", headers=p.engineer.headers).status_code == 200
    r = c.post(f"/api/v1/dispatches/{hop}/return", headers=p.engineer.headers, json={"result": "已更换光猫，恢复正常"})
    assert r.status_code == 200, r.text
    answers = [n["details"]["status"] for n in _told(c, k, p.agent, number) if n["kind"] == "hop_answered"]
    assert sorted(answers) == ["accepted", "returned"]
    assert [n["kind"] for n in _told(c, k, p.engineer, number)] == ["dispatched"]

    # Assigned to a colleague by the supervisor: the colleague is told, the supervisor is not.
    r = c.post(
        f"/api/v1/work-orders/{number}/assignment",
        headers=p.supervisor.headers,
        json={"team_id": p.reception, "handler_id": p.colleague.id, "reason": "转交"},
    )
    assert r.status_code == 200, r.text
    assert [n["kind"] for n in _told(c, k, p.colleague, number)] == ["assigned"]
    assert not _told(c, k, p.supervisor, number)

    # @mentions in an internal note: the colleague in scope is told; the author mentioning itself
    # and the agent of another province (who may not see the work order) are not; a note for the
    # customer mentions nobody.
    note = f"@{p.colleague.username} 请跟进，抄送 @{p.agent.username} 和 @{p.stranger.username}。"
    r = c.post(f"/api/v1/work-orders/{number}/notes", headers=p.agent.headers, json={"body": note})
    assert r.status_code == 201, r.text
    r = c.post(
        f"/api/v1/work-orders/{number}/notes",
        headers=p.agent.headers,
        json={"body": f"@{p.supervisor.username} 您好", "customer_visible": True},
    )
    assert r.status_code == 201, r.text
    mention = [n for n in _told(c, k, p.colleague, number) if n["kind"] == "mention"]
    assert len(mention) == 1 and mention[0]["details"]["by"] == p.agent.username
    assert "mention" not in _kinds(c, k, p, number)[p.agent.username]
    assert not _told(c, k, p.stranger, number)
    assert "mention" not in _kinds(c, k, p, number)[p.supervisor.username]

    # The customer writes again (an SMS naming the number): the handler is told.
    r = post_sms(c, {"message_id": secrets.token_hex(8), "from": phone, "text": f"{number} 今天下午在家吗？"})
    assert r.status_code == 200 and r.json()["work_order"] == number, r.text
    replied = [n for n in _told(c, k, p.colleague, number) if n["kind"] == "customer_replied"]
    assert len(replied) == 1 and replied[0]["details"]["channel"] == "sms"

    final = _kinds(c, k, p, number)
    assert final[p.stranger.username] == []
    assert final[p.colleague.username] == ["assigned", "customer_replied", "mention"]
    # Nothing the staff are told carries the customer's data.
    with k.engine.connect() as conn:
        payloads = [str(x) for x in conn.execute(text("SELECT payload FROM notifications")).scalars()]
    assert [x for x in payloads if number in x]
    assert not [x for x in payloads if phone in x or "赵先生" in x]


def _mail_to(messages: list[bytes], address: str) -> list[Message]:
    parsed = [email.message_from_bytes(m) for m in messages]
    return [m for m in parsed if address in str(m["To"])]


def test_copies_go_by_sms_and_email_as_each_user_chose(
    channel_client: TestClient,
    channel_kefu: Kefu,
    gateway: SmsGateway,
    mailbox: tuple[int, list[bytes]],
) -> None:
    c, k = channel_client, channel_kefu
    p = Province(c, k)
    phone = "138" + f"{secrets.randbelow(10**8):08d}"
    address = f"lead-{secrets.token_hex(3)}@centre.example"
    # The lead on call wants dispatches by SMS and e-mail; the engineer chose nothing.
    r = c.put(
        "/api/v1/me/notification-settings",
        headers=p.lead.headers,
        json={"copies": {"dispatched": ["sms", "email"], "sla_breached": ["sms"]}, "email": address, "phone": phone},
    )
    assert r.status_code == 200, r.text
    settings = r.json()
    assert settings["email"] != address and settings["email"].endswith("@centre.example")  # masked
    assert settings["phone"] == f"{phone[:3]}****{phone[-4:]}"
    by_kind = {row["kind"]: row["channels"] for row in settings["copies"]}
    assert by_kind["dispatched"] == ["email", "sms"] and by_kind["sla_breached"] == ["sms"] and not by_kind["mention"]

    customer = new_customer(c, p.agent, name="钱女士")
    number = new_work_order(c, p.agent, customer["id"])["number"]
    while deliver_outbox(k.ctx):  # the customer's acknowledgement (R4): one outbound contact
        pass
    sms_before, mail_before = len(gateway.requests), len(mailbox[1])
    r = c.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=p.agent.headers,
        json={"to_team_id": p.field, "instruction": "请上门"},
    )
    assert r.status_code == 201, r.text
    while deliver_outbox(k.ctx):
        pass
    texts = [m for m in gateway.messages()[sms_before:] if m["to"] == phone]
    assert len(texts) == 1 and number in texts[0]["text"] and "派单到本班组" in texts[0]["text"]
    mails = _mail_to(mailbox[1][mail_before:], address)
    assert len(mails) == 1 and number in str(email.header.make_header(email.header.decode_header(mails[0]["Subject"])))
    # Only the lead chose copies; a copy is no contact on the customer's history.
    assert len([m for m in gateway.messages()[sms_before:] if number in m["text"]]) == 1
    with k.engine.connect() as conn:
        contacts = conn.execute(
            text("SELECT count(*) FROM contacts WHERE customer_id = :c AND direction = 'out'"), {"c": customer["id"]}
        ).scalar_one()
    assert contacts == 1  # the acknowledgement only

    # Choosing SMS without a number is refused, naming the field; nothing changes.
    r = c.put(
        "/api/v1/me/notification-settings",
        headers=p.engineer.headers,
        json={"copies": {"mention": ["sms"]}},
    )
    assert r.status_code == 422 and "phone" in r.text
    assert not any(
        row["channels"]
        for row in c.get("/api/v1/me/notification-settings", headers=p.engineer.headers).json()["copies"]
    )


def test_moved_into_a_queue_or_routed_to_someone_at_registration(
    channel_client: TestClient, channel_kefu: Kefu
) -> None:
    c, k = channel_client, channel_kefu
    p = Province(c, k)
    # Moved by the supervisor into the field team's queue (nobody handles it yet): the lead is told.
    number = new_work_order(c, p.agent, new_customer(c, p.agent)["id"])["number"]
    r = c.post(
        f"/api/v1/work-orders/{number}/assignment",
        headers=p.supervisor.headers,
        json={"team_id": p.field, "handler_id": None, "reason": "需要现场"},
    )
    assert r.status_code == 200, r.text
    kinds = _kinds(c, k, p, number)
    assert kinds[p.lead.username] == ["dispatched"]
    assert not kinds[p.engineer.username] and not kinds[p.supervisor.username] and not kinds[p.stranger.username]
    assert _told(c, k, p.lead, number)[0]["details"]["team_id"] == p.field

    # A routing rule gives new work orders of a region to the field team's engineer: registering
    # tells the engineer it is theirs, and nobody of the queue.
    admin = make_actor(k, Role.ADMIN)
    region = f"天河{secrets.token_hex(3)}"
    rule = {
        "name": f"现场规则{region}",
        "position": 1,
        "team_id": p.field,
        "strategy": "least_loaded",
        "conditions": {"regions": [region]},
    }
    assert c.post("/api/v1/routing-rules", headers=admin.headers, json=rule).status_code == 201, rule
    routed = new_work_order(c, p.agent, new_customer(c, p.agent, region=region)["id"])
    assert routed["handler_id"] == p.engineer.id, routed
    kinds = _kinds(c, k, p, routed["number"])
    assert kinds[p.engineer.username] == ["assigned"]
    assert not kinds[p.lead.username] and not kinds[p.agent.username]


def test_a_vendor_hears_of_what_was_dispatched_to_it_and_of_notes_it_may_read(
    channel_client: TestClient, channel_kefu: Kefu
) -> None:
    c, k = channel_client, channel_kefu
    p = Province(c, k)
    admin = make_actor(k, Role.ADMIN)
    vendor = new_organisation(c, admin, "终端厂商", "vendor")
    vendor_team = new_team(c, admin, vendor, "厂商热线", "reception")
    vendor_agent = make_actor(k, Role.AGENT, vendor_team)
    vendor_colleague = make_actor(k, Role.AGENT, vendor_team)
    number = new_work_order(c, p.agent, new_customer(c, p.agent)["id"])["number"]
    # Before the dispatch the vendor may not see the work order: an @mention tells it nothing.
    note = {"body": f"@{vendor_agent.username} 请协助"}
    assert c.post(f"/api/v1/work-orders/{number}/notes", headers=p.agent.headers, json=note).status_code == 201
    assert _told(c, k, vendor_agent, number) == []

    r = c.post(
        f"/api/v1/work-orders/{number}/dispatches",
        headers=p.agent.headers,
        json={"to_team_id": vendor_team, "instruction": "请检查终端"},
    )
    assert r.status_code == 201, r.text
    assert [n["kind"] for n in _told(c, k, vendor_agent, number)] == ["dispatched"]
    # The operator's internal notes stay the operator's: mentioning the vendor's agent there tells
    # it nothing it could not read; a note of the vendor's own people does.
    assert c.post(f"/api/v1/work-orders/{number}/notes", headers=p.agent.headers, json=note).status_code == 201
    assert [n["kind"] for n in _told(c, k, vendor_agent, number)] == ["dispatched"]
    own = {"body": f"@{vendor_agent.username} 我来看"}
    assert c.post(f"/api/v1/work-orders/{number}/notes", headers=vendor_colleague.headers, json=own).status_code == 201
    assert sorted(n["kind"] for n in _told(c, k, vendor_agent, number)) == ["dispatched", "mention"]


def test_a_visit_booked_for_an_engineer_is_theirs(channel_client: TestClient, channel_kefu: Kefu) -> None:
    c, k = channel_client, channel_kefu
    p = Province(c, k)
    number = new_work_order(c, p.agent, new_customer(c, p.agent, address="广州市天河区天河路1号")["id"])["number"]
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    r = c.post(
        f"/api/v1/work-orders/{number}/visits",
        headers=p.lead.headers,
        json={
            "engineer_id": p.engineer.id,
            "window_start": day.replace(hour=10).isoformat(),
            "window_end": day.replace(hour=12).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    told = _told(c, k, p.engineer, number)
    assert [n["kind"] for n in told] == ["assigned"] and told[0]["details"]["visit_id"] == r.json()["id"]
    assert not _told(c, k, p.lead, number)
    with TestClient(c.app, base_url="http://127.0.0.1") as page:
        login(page, p.engineer.username)
        listing = page.get("/ui/notifications")
        assert "分派给我" in listing.text and "10:00" in listing.text, listing.text


def test_at_night_the_copies_go_at_once_and_the_bell_waits_for_the_morning(
    database: Database, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    night = datetime.now(ZoneInfo("Asia/Shanghai")).replace(hour=23, minute=0, second=0, microsecond=0)
    clock = FixedClock(night.astimezone(UTC))
    k = make_kefu(database.url, clock=clock, sms_secret=SMS_SECRET, sms_gateway=gateway.url, quiet_hours="22:00-08:00")
    try:
        with TestClient(create_app(k), base_url="http://127.0.0.1") as c:
            p = Province(c, k)
            phone = "137" + f"{secrets.randbelow(10**8):08d}"
            r = c.put(
                "/api/v1/me/notification-settings",
                headers=p.lead.headers,
                json={"copies": {"dispatched": ["sms"]}, "phone": phone},
            )
            assert r.status_code == 200, r.text
            number = new_work_order(c, p.agent, new_customer(c, p.agent)["id"])["number"]
            before = len(gateway.requests)
            r = c.post(
                f"/api/v1/work-orders/{number}/dispatches",
                headers=p.agent.headers,
                json={"to_team_id": p.field, "instruction": "明早处理"},
            )
            assert r.status_code == 201, r.text
            assert _told(c, k, p.lead, number) == []  # the in-app notification waits for 08:00
            assert [m for m in gateway.messages()[before:] if m["to"] == phone and number in m["text"]]
            clock.advance(timedelta(hours=9, minutes=1))
            assert [n["kind"] for n in _told(c, k, p.lead, number)] == ["dispatched"]
    finally:
        k.engine.dispose()
