"""The correction forms through HTTP: the edit form of the work-order page, the customer page with its
edit and merge forms; refusals say why on the page and store nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.domain.workorders import Channel
from kefu.services.channels import intake
from tests.support.factories import new_customer, new_work_order, unique_phone
from tests.support.pages import csrf_of, field_of, logged_in, register_form


def test_the_work_order_page_corrects_the_registration(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    customer = new_customer(client, agent)
    r = client.post(
        "/api/v1/work-orders",
        headers=agent.headers,
        json={
            "customer_id": customer["id"],
            "type": "fault",
            "category": "broadband.no_connection",
            "channel": "hotline",
            "title": "宽带断网",
            "description": "光猫红灯",
        },
    )
    number = r.json()["number"]
    page = client.get(f"/ui/work-orders/{number}")
    assert page.status_code == 200 and 'id="edit-form"' in page.text and "修改登记信息" in page.text
    version = field_of(
        page.text,
        r'id="edit-form">\s*<input type="hidden" name="csrf" value="[^"]+">\s*'
        r'<input type="hidden" name="version" value="(\d+)"',
    )
    form = {
        "csrf": csrf_of(page.text),
        "version": version,
        "type": "fault",
        "category": "broadband.slow_speed",
        "severity": "2",
        "customer_id": str(customer["id"]),
        "title": "宽带网速慢",
        "description": "光猫红灯",
        "fault_place": "",
        "device": "华为 HG8245",
        "fault_time": "",
        "fault_time_was": "",
        "reason": "",
    }
    bad = client.post(f"/ui/work-orders/{number}/edit", data={**form, "title": ""})
    assert bad.status_code == 422 and "此项不能为空" in bad.text
    stale = client.post(f"/ui/work-orders/{number}/edit", data={**form, "version": "99"})
    assert stale.status_code == 409
    r = client.post(f"/ui/work-orders/{number}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    after = client.get(f"/ui/work-orders/{number}").text
    assert "宽带网速慢" in after and "修改了" in after and "二级（重大）" in after
    assert "宽带断网 → 宽带网速慢" in after  # the timeline: field, from → to
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    assert [e["data"]["field"] for e in history if e["kind"] == "edited"] == ["category", "severity", "title", "device"]
    # The fault time, typed to the minute in the browser's timezone; year 1 is refused, naming it.
    page = client.get(f"/ui/work-orders/{number}")
    form.update(csrf=csrf_of(page.text), version=field_of(page.text, r'name="version" value="(\d+)"'))
    bad = client.post(f"/ui/work-orders/{number}/edit", data={**form, "fault_time": "0001-01-01T00:00"})
    assert bad.status_code == 422
    r = client.post(
        f"/ui/work-orders/{number}/edit", data={**form, "fault_time": "2026-11-01T08:30"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=agent.headers).json()["events"]
    assert [e["data"]["to"] for e in history if e["kind"] == "edited"][-1] == "2026-11-01T08:30:00+08:00"


def test_the_customer_page_corrects_and_merges(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    real = new_customer(client, agent, name="赵敏")
    page = client.get(f"/ui/customers/{real['id']}")
    assert page.status_code == 200 and "修改客户档案" in page.text and "暂无修改记录" in page.text
    assert real["phone"] in page.text  # masked, as the API gives it
    csrf = csrf_of(page.text)
    refused = client.post(f"/ui/customers/{real['id']}/edit", data={"csrf": csrf, "name": "赵敏", "phone": "123"})
    assert refused.status_code == 422 and "不是有效的电话号码" in refused.text
    r = client.post(
        f"/ui/customers/{real['id']}/edit",
        data={"csrf": csrf, "name": "赵敏", "tier": "vip", "region": "杭州", "phone": "", "reason": "核实身份后更正"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/ui/customers/{real['id']}")
    assert "核实身份后更正" in page.text and "杭州" in page.text
    born = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="网络又断了", phone=unique_phone()))
    assert born.customer_id is not None and born.work_order is not None
    nothing = client.post(f"/ui/customers/{real['id']}/merge", data={"csrf": csrf, "merged_id": "abc"})
    assert nothing.status_code == 422
    r = client.post(
        f"/ui/customers/{real['id']}/merge",
        data={"csrf": csrf, "merged_id": str(born.customer_id), "reason": "同一人"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/ui/customers/{real['id']}")
    assert born.work_order.number in page.text and "合并了重复档案" in page.text
    kept = client.get(f"/ui/customers/{born.customer_id}")
    assert kept.status_code == 200 and 'id="merged-into"' in kept.text and 'id="customer-form"' not in kept.text
    wo = client.get(f"/ui/work-orders/{born.work_order.number}").text
    assert "重复客户已合并" in wo


def test_a_caller_not_on_file_is_registered_with_the_work_order(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    form = client.get("/ui/work-orders/new")
    assert form.status_code == 200 and 'id="new-caller"' in form.text
    phone = unique_phone()
    fields = register_form(
        csrf_of(form.text), "", phone=phone, new_name="钱多多", new_region="佛山", new_tier="premium"
    )
    # Bad input: nothing of either is stored.
    for over, shown in [
        ({"new_name": "钱" * 101}, "超过 100 个字符"),
        ({"phone": "12345"}, "不是有效的电话号码"),
        ({"category": "no.such"}, "不存在"),
        ({"new_tier": "gold"}, "请选择客户等级"),
        ({"title": "断\x00网"}, ""),
    ]:
        bad = client.post("/ui/work-orders", data={**fields, **over})
        assert bad.status_code == 422 and shown in bad.text, (over, bad.status_code)
    found = client.get("/api/v1/customers", headers=agent.headers, params={"phone": phone}).json()["items"]
    assert found == []
    r = client.post("/ui/work-orders", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "钱多多" in page.text
    [made] = client.get("/api/v1/customers", headers=agent.headers, params={"phone": phone}).json()["items"]
    assert made["name"] == "钱多多" and made["region"] == "佛山" and made["tier"] == "premium"


def test_the_to_classify_queue_lists_only_what_waits_to_be_classified(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    got = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="网络很慢，请处理", phone=unique_phone()))
    assert got.work_order is not None
    customer = new_customer(client, agent)
    classified = new_work_order(client, agent, customer["id"])["number"]
    page = client.get("/ui/work-orders", params={"queue": "to_classify"})
    assert page.status_code == 200
    assert got.work_order.number in page.text and classified not in page.text
    # Sorted or narrowed by type, it is still the queue's list.
    sorted_page = client.get("/ui/work-orders", params={"queue": "to_classify", "sort": "-created"})
    assert got.work_order.number in sorted_page.text and classified not in sorted_page.text


def test_the_duplicate_is_named_by_the_phone_it_wrote_from(client: TestClient, kefu: Kefu) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    real = new_customer(client, agent, name="钱芳")
    phone = unique_phone()
    born = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="宽带又断了", phone=phone))
    assert born.work_order is not None
    page = client.get(f"/ui/customers/{real['id']}")
    assert "重复档案的电话号码或客户编号" in page.text
    csrf = csrf_of(page.text)
    unknown = client.post(f"/ui/customers/{real['id']}/merge", data={"csrf": csrf, "merged_id": unique_phone()})
    assert unknown.status_code == 422 and "没有其他客户使用电话号码" in unknown.text
    r = client.post(
        f"/ui/customers/{real['id']}/merge",
        data={"csrf": csrf, "merged_id": f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", "reason": "同一人换号发短信"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert born.work_order.number in client.get(f"/ui/customers/{real['id']}").text
