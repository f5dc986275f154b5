"""Agent pages for the channels: walk-in registration at a store, the screen-pop with registration
during the call, and the customer's contact history beside the work order."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import make_actor, new_customer, unique_phone
from tests.support.pages import csrf_of, field_of, login, register_form


def test_walk_in_and_screen_pop_registration(app: FastAPI, kefu: Kefu) -> None:
    agent = make_actor(kefu, Role.AGENT)
    phone = unique_phone()
    with TestClient(app, base_url="http://127.0.0.1") as api:
        customer = new_customer(api, agent, name="孙九", phone=phone)
        call_id = f"call-{secrets.token_hex(5)}"
        api.post(
            "/api/v1/cti/events",
            headers=agent.headers,
            json={
                "call_id": call_id,
                "event": "ringing",
                "at": (datetime.now(UTC) - timedelta(seconds=20)).isoformat(),
                "caller": phone,
            },
        )
        api.post(
            "/api/v1/cti/events",
            headers=agent.headers,
            json={
                "call_id": call_id,
                "event": "answered",
                "at": datetime.now(UTC).isoformat(),
                "caller": phone,
                "agent": agent.username,
            },
        )
    with TestClient(app, base_url="http://127.0.0.1") as c:
        login(c, agent.username)
        # Walk-in: the store is required; the visit lands on the customer's contact history.
        form = c.get("/ui/work-orders/new", params={"channel": "store"})
        assert 'name="store"' in form.text
        body = register_form(
            csrf_of(form.text),
            customer["id"],
            type="service_request",
            channel="store",
            category="sim_number.replacement",
            title="补换卡",
            description="SIM卡损坏",
        )
        missing = c.post("/ui/work-orders", data=body)
        assert missing.status_code == 422 and "请填写客户来访的营业厅" in missing.text
        r = c.post("/ui/work-orders", data={**body, "store": "天河路营业厅"}, follow_redirects=False)
        assert r.status_code == 303
        detail = c.get(r.headers["location"])
        assert "接触历史" in detail.text and "天河路营业厅" in detail.text and "营业厅" in detail.text
        # Screen-pop for the ringing number, then registration during the call.
        pop = c.get("/ui/cti", params={"caller": phone, "call_id": call_id})
        assert pop.status_code == 200 and "孙九" in pop.text and "补换卡" in pop.text
        link = field_of(pop.text, r'href="(/ui/work-orders/new\?channel=hotline[^"]+)"')
        form = c.get(link.replace("&amp;", "&"))
        assert f'name="call_id" value="{call_id}"' in form.text
        r = c.post(
            "/ui/work-orders",
            follow_redirects=False,
            data=register_form(
                csrf_of(form.text),
                customer["id"],
                category="mobile_network.no_signal",
                title="家中无信号",
                description="室内无信号",
                call_id=call_id,
            ),
        )
        assert r.status_code == 303
        number = r.headers["location"].rsplit("/", 1)[1]
        clocks = {
            k["name"]: k["state"]
            for k in c.get(f"/api/v1/work-orders/{number}", headers=agent.headers).json()["clocks"]
        }
        assert clocks["register"] == "met"  # it ran from the answer of this call
        bad = c.get("/ui/cti", params={"caller": "---"})
        assert bad.status_code == 422 and "缺少主叫号码" in bad.text
