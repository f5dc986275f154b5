"""Dispatch and field-service pages through HTTP: dispatch, the team queue, answering a hop, the
engineer's day and the visit report with its mandatory function test."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from tests.support.pages import csrf_of, field_of, login
from tests.support.scenarios import Centre


def test_dispatch_answer_and_visit_in_the_pages(app: FastAPI, kefu: Kefu) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as api:
        c = Centre(api, kefu)
        number = c.case(api)
    with TestClient(app, base_url="http://127.0.0.1") as agent:
        login(agent, c.agent.username)
        page = agent.get(f"/ui/work-orders/{number}")
        assert page.status_code == 200 and "派给" in page.text and f'value="team:{c.field}"' in page.text
        version = field_of(page.text, r'name="version" value="(\d+)"')
        bad = agent.post(
            f"/ui/work-orders/{number}/dispatch",
            data={"csrf": csrf_of(page.text), "to": f"team:{c.field}", "instruction": " ", "version": version},
        )
        assert bad.status_code == 422 and "请填写给接收方的处理要求" in bad.text
        r = agent.post(
            f"/ui/work-orders/{number}/dispatch",
            follow_redirects=False,
            data={
                "csrf": csrf_of(page.text),
                "to": f"team:{c.field}",
                "instruction": "请上门更换光猫",
                "version": version,
            },
        )
        assert r.status_code == 303
        assert "待接收" in agent.get(f"/ui/work-orders/{number}").text
    with TestClient(app, base_url="http://127.0.0.1") as lead:
        login(lead, c.lead.username)
        queue = lead.get(f"/ui/teams/{c.field}/queue")
        assert queue.status_code == 200 and number in queue.text and "请上门更换光猫" in queue.text
        assert "<title>现场维修组 · kefu</title>" in queue.text
        assert "不在班" in queue.text  # the resting engineer
        r = lead.post(
            f"/ui/agents/{c.resting.id}/shift",
            follow_redirects=False,
            data={"csrf": csrf_of(queue.text), "on_shift": "1", "team_id": str(c.field)},
        )
        assert r.status_code == 303
        assert "不在班" not in lead.get(f"/ui/teams/{c.field}/queue").text
        detail = lead.get(f"/ui/work-orders/{number}")
        hop_id = field_of(detail.text, r'action="/ui/dispatches/(\d+)/answer"')
        # The answer cell keeps no template whitespace (a pre-wrap cell opened a ~150 px blank
        # block before the form), and the refusal is a secondary button beside the main one.
        cell = field_of(detail.text, rf'(?s)<tr class="hop [a-z]+" id="hop-{hop_id}">.*?(<td>\s*<form[^>]*hop-answer)')
        assert "prewrap" not in cell
        assert re.search(r'<button type="submit" name="action" value="reject" class="secondary">', detail.text)
        r = lead.post(
            f"/ui/dispatches/{hop_id}/answer",
            follow_redirects=False,
            data={"csrf": csrf_of(detail.text), "number": number, "action": "accept"},
        )
        assert r.status_code == 303
        detail = lead.get(f"/ui/work-orders/{number}")
        assert "接收了派单" in detail.text and "预约上门" in detail.text
        start = detail.text.split('name="window_start" required value="')[1][:16]
        end = detail.text.split('name="window_end" required value="')[1][:16]
        engineer = field_of(detail.text, r'name="engineer_id" required>\s*<option value="(\d+)"')
        assert int(engineer) == c.fibre.id  # the skilled, local engineer is offered first
        r = lead.post(
            f"/ui/work-orders/{number}/visits",
            follow_redirects=False,
            data={
                "csrf": csrf_of(detail.text),
                "engineer_id": engineer,
                "window_start": start,
                "window_end": end,
                "tools": "光功率计，熔接机",
                "parts": "光猫",
            },
        )
        assert r.status_code == 303, r.text
    with TestClient(app, base_url="http://127.0.0.1") as fibre:
        login(fibre, c.fibre.username)
        other = fibre.post(
            f"/ui/agents/{c.generalist.id}/shift",
            data={"csrf": csrf_of(fibre.get("/ui/visits/day").text), "on_shift": "0", "team_id": str(c.field)},
        )
        assert other.status_code == 403  # an engineer sets only their own shift
        day = datetime.fromisoformat(start).date().isoformat()
        today = fibre.get("/ui/visits/day", params={"day": day})
        assert today.status_code == 200 and number in today.text and "已预约" in today.text
        visit_url = field_of(today.text, r'href="(/ui/visits/\d+)"')
        visit = fibre.get(visit_url)
        assert "光功率计, 熔接机" in visit.text and "天河路385号" in visit.text  # engineers see the address
        # ... and whom to meet: the customer's name and phone, masked until revealed (audited).
        meet = field_of(visit.text, r'(?s)id="visit-customer">(.*?)</dd>')
        assert re.search(r'id="visit-phone">1\d\d\*{4}\d{4}<', meet) and "#unmask" in meet
        r = fibre.post(visit_url + "/check-in", follow_redirects=False, data={"csrf": csrf_of(visit.text)})
        assert r.status_code == 303
        visit = fibre.get(visit_url)
        report = {
            "csrf": csrf_of(visit.text),
            "diagnosis": "光猫损坏",
            "repair_actions": "更换光猫",
            "confirmed_by": "陈女士",
            "site_cleaned": "yes",
            "outcome": "resolved",
        }
        refused = fibre.post(visit_url + "/complete", data=report)
        assert refused.status_code == 422 and "完成上门前请记录功能测试结果" in refused.text
        assert "光猫损坏" in refused.text  # what was typed is kept
        r = fibre.post(visit_url + "/complete", data={**report, "function_test": "passed"}, follow_redirects=False)
        assert r.status_code == 303
        done = fibre.get(visit_url).text
        assert "已完成" in done and "已修复并经客户确认" in done
        assert "已解决" in fibre.get(f"/ui/work-orders/{number}").text
        # A bad day in the day view says so instead of failing.
        assert "日期无效" in fibre.get("/ui/visits/day", params={"day": "31-02"}).text
