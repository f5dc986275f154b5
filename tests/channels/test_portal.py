"""The customers' self-service portal through HTTP: submit with the registration template, follow
by number after an SMS code (delivered through a real HTTP gateway), add information, confirm, rate."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.domain.workorders import Status
from kefu.services.sla.timers import deliver_outbox
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries
from tests.support.factories import make_actor, new_user, unique_phone
from tests.support.pages import csrf_of, field_of, login
from tests.support.peers import SmsGateway


def code_for(k: Kefu, gateway: SmsGateway, phone: str) -> str:
    while deliver_outbox(k.ctx):
        pass
    texts = [m["text"] for m in gateway.messages() if m["to"] == phone and "验证码" in m["text"]]
    match = re.search(r"验证码是 (\d{6})", texts[-1])
    assert match
    return match.group(1)


def test_submit_follow_add_confirm_and_rate(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    c, phone = channel_client, unique_phone()
    home = c.get("/portal")
    assert home.status_code == 200 and "报告问题" in home.text
    bad = c.post(
        "/portal/requests",
        data={
            "csrf": csrf_of(home.text),
            "name": "周八",
            "phone": "12345",
            "type": "fault",
            "description": "宽带很慢很慢",
        },
    )
    assert bad.status_code == 422 and "不是有效的电话号码" in bad.text and "宽带很慢很慢" in bad.text
    r = c.post(
        "/portal/requests",
        data={
            "csrf": csrf_of(home.text),
            "name": "周八",
            "phone": phone,
            "type": "fault",
            "category": "broadband.slow_speed",
            "device": "光猫 HG8245",
            "description": "晚上八点后网速只有1M",
            "fault_time": "2026-11-20T20:00",
            "place": "天河区天河路1号",
        },
    )
    assert r.status_code == 200, r.text
    number = field_of(r.text, r'id="number">(GD\d{14})<')
    assert 'id="promised"' in r.text
    wo, _ = queries.get_work_order(channel_kefu.ctx, new_user(channel_kefu, Role.ADMIN), number)
    assert (wo.channel.value, wo.category, wo.device, wo.fault_place) == (
        "web",
        "broadband.slow_speed",
        "光猫 HG8245",
        "天河区天河路1号",
    )

    # Following it needs the phone on record and the code sent to it.
    assert c.get(f"/portal/orders/{number}", follow_redirects=False).status_code == 303
    # A phone that is not the customer's gets the very answer the right one gets (nothing tells
    # which numbers belong to which phones), and no code goes anywhere.
    stranger = unique_phone()
    wrong = c.post("/portal/track", data={"csrf": csrf_of(home.text), "number": number, "phone": stranger})
    assert wrong.status_code == 200 and "如果工单号和手机号码属于同一请求" in wrong.text
    while deliver_outbox(channel_kefu.ctx):
        pass
    assert not [m for m in gateway.messages() if m["to"] == stranger]
    sent = c.post("/portal/track", data={"csrf": csrf_of(home.text), "number": number, "phone": phone})
    assert sent.status_code == 200
    code = code_for(channel_kefu, gateway, phone)
    bad_code = c.post(
        "/portal/verify",
        data={"csrf": csrf_of(sent.text), "number": number, "code": "000000" if code != "000000" else "111111"},
    )
    assert bad_code.status_code == 422
    r = c.post(
        "/portal/verify", data={"csrf": csrf_of(sent.text), "number": number, "code": code}, follow_redirects=False
    )
    assert r.status_code == 303
    page = c.get(f"/portal/orders/{number}")
    assert page.status_code == 200 and number in page.text and 'id="status">新建' in page.text
    # Registered, not yet accepted: the timeline does not say 已受理 (the status word of "accepted").
    assert "已登记" in page.text and "已受理" not in page.text
    # The code works once.
    reused = c.post("/portal/verify", data={"csrf": csrf_of(sent.text), "number": number, "code": code})
    assert reused.status_code == 422

    r = c.post(
        f"/portal/orders/{number}/information",
        data={"csrf": csrf_of(page.text), "text": "周末全天在家"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    history, _ = queries.work_order_history(channel_kefu.ctx, new_user(channel_kefu, Role.AUDITOR), number)
    assert any(e.kind.value == "contact_received" and e.note == "周末全天在家" for e in history)

    # Resolved by the centre: the customer confirms and rates.
    admin = new_user(channel_kefu, Role.SUPERVISOR)
    svc.transition_work_order(channel_kefu.ctx, admin, number, Status.ACCEPTED)
    svc.transition_work_order(channel_kefu.ctx, admin, number, Status.RESOLVED, note="已更换光猫")
    page = c.get(f"/portal/orders/{number}")
    assert "问题解决了吗" in page.text
    r = c.post(
        f"/portal/orders/{number}/confirm", data={"csrf": csrf_of(page.text), "fixed": "yes"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert 'id="status">已关闭' in c.get(f"/portal/orders/{number}").text
    r = c.post(
        f"/portal/orders/{number}/rate",
        data={"csrf": csrf_of(page.text), "score": "5", "comment": "很快"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    again = c.post(f"/portal/orders/{number}/rate", data={"csrf": csrf_of(page.text), "score": "4"})
    assert again.status_code == 422 and "已经评价" in again.text
    # Rated: the page thanks the customer and offers no second rating form.
    rated = c.get(f"/portal/orders/{number}").text
    assert 'id="rated"' in rated and "★★★★★" in rated and f"/portal/orders/{number}/rate" not in rated
    # Staff see the stars on the work order's page and in the API.
    supervisor = make_actor(channel_kefu, Role.SUPERVISOR)
    login(c, supervisor.username)
    staff = c.get(f"/ui/work-orders/{number}").text
    assert 'id="rating"' in staff and "★★★★★" in staff and "很快" in staff
    assert ">系统<" in staff and ">kefu<" not in staff  # the account that signs the portal's events
    api = c.get(f"/api/v1/work-orders/{number}", headers=supervisor.headers).json()
    assert api["customer_rating"]["score"] == 5 and api["customer_rating"]["comment"] == "很快"
    assert api["promised_at"] is not None  # R4: the time told to the customer
    # The customer was told of the resolution by SMS.
    while deliver_outbox(channel_kefu.ctx):
        pass
    assert any("已处理完毕" in m["text"] and number in m["text"] for m in gateway.messages() if m["to"] == phone)


def test_the_one_time_code_is_nowhere_in_clear(
    channel_client: TestClient, channel_kefu: Kefu, gateway: SmsGateway
) -> None:
    """Stored hashed with a key that is not in the database; in the outbox only encrypted, until the
    delivery; in the customer's contact history masked."""
    import hashlib

    from sqlalchemy import select

    from kefu.adapters.db.tables import contacts, outbox, verification_codes, work_orders

    c, phone = channel_client, unique_phone()
    home = c.get("/portal")
    number = field_of(
        c.post(
            "/portal/requests",
            data={
                "csrf": csrf_of(home.text),
                "name": "钱九",
                "phone": phone,
                "type": "fault",
                "description": "家里宽带断网了，光猫亮红灯",
            },
        ).text,
        r'id="number">(GD\d{14})<',
    )
    c.post("/portal/track", data={"csrf": csrf_of(home.text), "number": number, "phone": phone})
    with channel_kefu.engine.connect() as conn:
        wo_id = conn.execute(select(work_orders.c.id).where(work_orders.c.number == number)).scalar_one()
        queued = conn.execute(
            select(outbox.c.payload).where(outbox.c.work_order_id == wo_id, outbox.c.template.like("%verification%"))
        ).scalar_one()
    assert "******" in queued["body"] and not re.search(r"\d{6}", queued["body"].replace(number, ""))
    assert queued["sealed_body"].startswith("enc1:")
    code = code_for(channel_kefu, gateway, phone)  # the gateway got the real code
    assert code not in str(queued)
    with channel_kefu.engine.connect() as conn:
        stored_hash = conn.execute(
            select(verification_codes.c.code_hash).where(verification_codes.c.work_order_id == wo_id)
        ).scalar_one()
        sent = (
            conn.execute(
                select(contacts.c.body).where(contacts.c.work_order_id == wo_id, contacts.c.direction == "out")
            )
            .scalars()
            .all()
        )
    assert stored_hash != hashlib.sha256(f"{wo_id}:{code}".encode()).hexdigest() and len(stored_hash) == 64
    assert all(code not in body for body in sent) and any("验证码是 ******" in body for body in sent)
