"""What a new user met (issue 12, part 9), through the pages and the API: labels, wording, sorting
on the server, the due-within-the-hour list, links in messages."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.config import Settings
from kefu.domain.org import Role
from kefu.domain.sla import ClockName, SlaPolicy
from kefu.http import cursors
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.access.demo import demo_password
from kefu.services.channels import notify
from kefu.services.dispatch import routing
from kefu.services.ports import WorkOrderFilter
from kefu.services.sla import admin as sla_admin
from kefu.services.workorders import queries
from tests.support.factories import Json, make_actor, new_customer, new_user, new_work_order
from tests.support.kefus import own_kefu
from tests.support.pages import csrf_of, field_of, logged_in, post_login


def test_admin_tables_name_codes_and_names_not_verification_codes(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.ADMIN)
    page = client.get("/ui/admin/categories").text
    head = field_of(page, r'(?s)<table class="list" id="categories">\s*<thead>(.*?)</thead>')
    assert "分类编码" in head and "分类名称" in head and "验证码" not in head and "姓名" not in head
    assert "班组名称" in client.get("/ui/admin/teams").text
    rules = client.get("/ui/admin/routing").text
    assert "规则名称" in rules and 'for="r-name">姓名' not in rules


def test_rejecting_without_a_reason_says_a_reason_is_required(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    number = new_work_order(client, agent, customer["id"])["number"]
    page = client.get(f"/ui/work-orders/{number}")
    assert ">驳回</button>" in page.text
    r = client.post(
        f"/ui/work-orders/{number}/transition",
        data={"csrf": csrf_of(page.text), "to": "rejected", "version": "1", "note": " "},
    )
    assert r.status_code == 422
    assert "驳回工单必须填写原因" in r.text and "已退回" not in r.text and 'id="status">新建' in r.text
    api = client.post(f"/api/v1/work-orders/{number}/transitions", headers=agent.headers, json={"to": "cancelled"})
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "note"
    assert "cancel" in api.json()["detail"] and "reason" in api.json()["detail"]


def test_roles_and_the_system_account_are_named_in_chinese(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.FIELD_ENGINEER)
    who = field_of(client.get("/ui/visits/day").text, r'id="my-account"[^>]*>([^<]*)<')
    assert "现场工程师" in who and "field_engineer" not in who


def _orders(client: TestClient, kefu: Kefu) -> tuple[Json, list[str]]:
    agent = make_actor(kefu, Role.AGENT)
    customer = new_customer(client, agent)
    numbers = [
        new_work_order(client, agent, customer["id"], title=title)["number"]
        for title in ("B 网速慢", "C 无法上网", "A 断网", "B 网速慢")
    ]
    return customer, numbers


def test_sorting_a_list_is_done_by_the_server_over_every_page(client: TestClient, kefu: Kefu) -> None:
    customer, numbers = _orders(client, kefu)
    logged_in(client, kefu, Role.SUPERVISOR)
    page = client.get("/ui/work-orders", params={"customer": customer["id"], "sort": "title"}).text
    shown = re.findall(r'<a href="/ui/work-orders/(GD\d{14})">', page)
    assert shown == [numbers[2], numbers[0], numbers[3], numbers[1]]  # A, B, B (a tie: older first), C
    assert 'aria-sort="ascending"' in page and 'href="?customer=' in page
    assert field_of(page, r'href="([^"]*)" id="sort-title"').endswith("sort=-title")  # click again: the other way
    down = client.get("/ui/work-orders", params={"customer": customer["id"], "sort": "-title"}).text
    assert re.findall(r'<a href="/ui/work-orders/(GD\d{14})">', down) == [
        numbers[1],
        numbers[3],
        numbers[0],
        numbers[2],
    ]
    bad = client.get("/ui/work-orders", params={"customer": customer["id"], "sort": "password"})
    assert bad.status_code == 200 and "sort=password" in bad.text  # named as not understood, never a 500
    assert client.get("/ui/work-orders", params={"sort": "due", "cursor": "\x00"}).status_code == 200


def test_sorted_pages_follow_one_another_without_gaps_or_repeats(client: TestClient, kefu: Kefu) -> None:
    """Keyset paging of a sorted list, on both databases: by a text and by a time."""
    customer, numbers = _orders(client, kefu)
    reader = new_user(kefu, Role.SUPERVISOR)
    for sort, descending in (("title", False), ("created", True), ("due", False), ("priority", True)):
        flt = WorkOrderFilter(customer_id=customer["id"], statuses=(), sort=sort, descending=descending)
        every = [w.number for w in queries.list_work_orders(kefu.ctx, reader, flt, limit=10)]
        paged: list[str] = []
        after = None
        while True:
            page = queries.list_work_orders(kefu.ctx, reader, replace(flt, after=after), limit=3)
            paged += [w.number for w in page]
            if len(page) < 3:
                break
            last = page[-1]
            assert last.id is not None
            cursor = cursors.encode_after(sort, queries.sort_value(last, sort), last.id)
            after = cursors.decode_after(cursor, sort, moment=sort in ("created", "due"))
        assert paged == every and sorted(every) == sorted(numbers), sort


def test_due_within_the_hour_shows_due_time_time_left_and_handler_sorted_by_due(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.SUPERVISOR)
    page = client.get("/ui/work-orders", params={"breach_within": "60"}).text
    head = field_of(page, r"(?s)<thead>(.*?)</thead>")
    assert "到期时间" in head and "剩余时间" in head and "处理人" in head
    assert 'id="sort-due"' in head and 'aria-sort="ascending"' in head
    dues = re.findall(r'<td class="due"><time datetime="([^"]+)"', page)
    assert dues == sorted(dues)


def test_the_link_in_messages_opens_the_portal_with_the_number(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = make_actor(kefu, Role.AGENT)
    number = new_work_order(client, agent, customer["id"])["number"]
    wo, _ = queries.get_work_order(kefu.ctx, new_user(kefu, Role.ADMIN), number)
    with kefu.ctx.uow() as uow:
        url = str(notify.values_for(kefu.ctx, uow, wo, "zh_CN", {})["url"])
    parts = urlsplit(url)
    r = client.get(parts.path + "?" + parts.query)
    assert r.status_code == 200 and f'value="{number}"' in r.text and parts.fragment == "track"


def test_promised_at_is_the_time_told_to_the_customer(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = make_actor(kefu, Role.AGENT)
    created = new_work_order(client, agent, customer["id"])
    assert created["promised_at"] is not None
    body = client.get(f"/api/v1/work-orders/{created['number']}", headers=agent.headers).json()
    resolution = next(c for c in body["clocks"] if c["name"] == "resolution")
    assert body["promised_at"] == resolution["due_at"]


def test_a_complaint_is_marked_on_its_page_and_in_the_list(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = logged_in(client, kefu, Role.AGENT)
    number = new_work_order(client, agent, customer["id"], type="complaint", category="billing.disputed_charge")[
        "number"
    ]
    assert 'id="complaint-badge"' in client.get(f"/ui/work-orders/{number}").text
    listed = client.get("/ui/work-orders", params={"customer": customer["id"], "type": "complaint"}).text
    assert '<span class="badge complaint">投诉</span>' in listed
    vip = new_customer(client, agent, tier="vip")
    new_work_order(client, agent, vip["id"])
    assert 'id="vip-badge"' not in client.get(f"/ui/work-orders/{number}").text  # the customer is no VIP
    vips = client.get("/ui/work-orders", params={"customer": vip["id"]}).text
    assert '<span class="badge vip">VIP</span>' in vips and '<span class="badge vip">' not in listed


def test_dashboard_tiles_open_the_lists_they_count(client: TestClient, kefu: Kefu, customer: Json) -> None:
    agent = make_actor(kefu, Role.AGENT)
    number = new_work_order(client, agent, customer["id"])["number"]
    logged_in(client, kefu, Role.SUPERVISOR)
    board = client.get("/ui/dashboard").text
    links = {key: field_of(board, rf'href="([^"]+)" id="tile-{key}"') for key in ("open", "due", "breaches", "created")}
    assert links["due"] == "/ui/work-orders?breach_within=60"
    for href in links.values():
        assert client.get(href.replace("&amp;", "&")).status_code == 200
    today = client.get(links["created"].replace("&amp;", "&")).text
    assert number in today and "created_on=" in links["created"]
    assert number not in client.get("/ui/work-orders", params={"status": "all", "created_on": "2020-01-01"}).text
    bad = client.get("/ui/work-orders", params={"created_on": "9999-99-99"})
    assert bad.status_code == 200 and "created_on=9999-99-99" in bad.text


def test_message_templates_are_headed_in_words_not_keys(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.ADMIN)
    page = client.get("/ui/admin/templates").text
    headings = re.findall(r"<h3[^>]*>([^<]*)", page)
    assert "工单已受理（工单号与承诺时间） · 短信 · 中文" in [h.strip() for h in headings]
    assert not [h for h in headings if "acknowledged" in h or "zh_CN" in h]


def test_routing_rule_conditions_are_picked_and_values_that_never_match_are_refused(
    client: TestClient, kefu: Kefu
) -> None:
    logged_in(client, kefu, Role.ADMIN)  # of the top organisation
    page = client.get("/ui/admin/routing").text
    assert re.search(r'<select id="r-types" name="types" multiple', page)
    assert re.search(r'<select id="r-categories" name="categories" multiple', page)
    assert 'name="types" value=' not in page  # no free text for types any more
    team = field_of(page, r'<select id="r-team" name="team_id"><option value="(\d+)"')
    region = f"测试区{secrets.token_hex(3)}"  # the rule routes nobody else's work orders
    name = f"投诉短信{secrets.token_hex(3)}"
    form = [
        ("csrf", csrf_of(page)),
        ("name", name),
        ("position", "5"),
        ("types", "complaint"),
        ("types", "fault"),
        ("categories", "billing"),
        ("channels", "sms"),
        ("regions_other", region),
        ("team_id", team),
        ("strategy", "least_loaded"),
    ]
    r = client.post("/ui/admin/rule", data=_form(form), follow_redirects=False)
    assert r.status_code == 303, r.text
    admin = new_user(kefu, Role.ADMIN)
    rule = next(x for x in routing.list_rules(kefu.ctx, admin) if x.name == name)
    assert rule.conditions.types == ("complaint", "fault") and rule.conditions.regions == (region,)
    shown = client.get("/ui/admin/routing").text
    assert "类型: 投诉, 故障" in shown and "分类: 计费账务" in shown
    typo = [(k, "故障" if k == "types" else v) for k, v in form if k != "name"] + [("name", name + "x")]
    bad = client.post("/ui/admin/rule", data=_form(typo))
    assert bad.status_code == 422 and "条件 types 中的值 故障, 故障 无效，可选值：complaint" in bad.text
    assert not [x for x in routing.list_rules(kefu.ctx, admin) if x.name == name + "x"]
    # The API refuses the same with 422 naming the condition; nothing is stored.
    token = make_actor(kefu, Role.ADMIN)
    body = {"name": name + "y", "position": 5, "team_id": int(team), "conditions": {"channels": ["短信"]}}
    api = client.post("/api/v1/routing-rules", headers=token.headers, json=body)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "conditions.channels"
    assert "channels" in api.json()["detail"] and "sms" in api.json()["detail"]
    assert not [x for x in routing.list_rules(kefu.ctx, admin) if x.name == name + "y"]


def _form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A form with repeated names (a multiple select sends its name once per choice)."""
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _targets_form(policy: SlaPolicy) -> list[tuple[str, str]]:
    def text(t: int | dict[str, int]) -> str:
        return ", ".join(f"{k}:{v}" for k, v in t.items()) if isinstance(t, dict) else str(t)

    return [(f"target_{clock.value}", text(t)) for clock, t in policy.targets.items()]


def test_time_limit_policies_are_added_and_their_conditions_edited_on_the_page(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.ADMIN)  # of the top organisation
    page = client.get("/ui/admin/sla").text
    csrf = csrf_of(page)
    admin = new_user(kefu, Role.ADMIN)
    region = f"农村{secrets.token_hex(3)}"
    # The documented step: fill in the rural policy's regions, then activate it.
    rural = next(p for p in sla_admin.list_policies(kefu.ctx, admin) if "农村" in p.name)
    assert not rural.active and f'id="policy-{rural.id}"' in page
    assert re.search(rf'(?s)id="policy-{rural.id}".*?<select id="p{rural.id}-regions" name="regions" multiple', page)
    form = [
        ("csrf", csrf),
        ("policy_id", str(rural.id)),
        *_targets_form(rural),
        ("types", "fault"),
        ("categories", "broadband"),
        ("categories", "fixed_line"),
        ("regions_other", region),
        ("active", "1"),
    ]
    r = client.post("/ui/admin/policy", data=_form(form), follow_redirects=False)
    assert r.status_code == 303, r.text
    saved = next(p for p in sla_admin.list_policies(kefu.ctx, admin) if p.id == rural.id)
    assert saved.active and saved.conditions.regions == (region,) and saved.targets == rural.targets
    assert f"地区: {region}" in client.get("/ui/admin/sla").text
    off = [(k, v) for k, v in form if k not in ("active", "regions_other")] + [("regions", region)]
    assert client.post("/ui/admin/policy", data=_form(off), follow_redirects=False).status_code == 303
    assert not next(p for p in sla_admin.list_policies(kefu.ctx, admin) if p.id == rural.id).active
    # A new policy, from the page.
    name = f"政企投诉{secrets.token_hex(3)}"
    new = [
        ("csrf", csrf),
        ("policy_id", ""),
        ("name", name),
        ("position", "900"),
        ("calendar", "24x7"),
        ("target_first_response", "20"),
        ("target_resolution", "vip:240, *:600"),
        ("types", "complaint"),
        ("regions_other", region),
        ("active", "1"),
    ]
    nameless = [(k, "" if k == "name" else v) for k, v in new]
    bad = client.post("/ui/admin/policy", data=_form(nameless))
    assert bad.status_code == 422 and "请填写策略名称" in bad.text
    r = client.post("/ui/admin/policy", data=_form(new), follow_redirects=False)
    assert r.status_code == 303, r.text
    added = next(p for p in sla_admin.list_policies(kefu.ctx, admin) if p.name == name)
    assert added.active and added.position == 900 and added.conditions.types == ("complaint",)
    assert added.target_for(ClockName.RESOLUTION, "vip") == 240 and added.escalations
    typo = [(k, "投诉" if k == "types" else v) for k, v in new if k != "name"] + [("name", name + "x")]
    assert client.post("/ui/admin/policy", data=_form(typo)).status_code == 422


def test_change_log_and_audit_details_read_as_key_value_lists(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.ADMIN)  # of the top organisation
    page = client.get("/ui/admin/teams").text
    org = field_of(page, r'<select id="t-org" name="organisation_id"><option value="(\d+)"')
    name = f"日志组{secrets.token_hex(3)}"
    form = {"csrf": csrf_of(page), "organisation_id": org, "name": name, "function": "reception"}
    assert client.post("/ui/admin/team", data=form, follow_redirects=False).status_code == 303
    log = client.get("/ui/admin/changes").text
    row = field_of(log, rf"(?s)<tr>((?:(?!</tr>).)*{name}(?:(?!</tr>).)*)</tr>")
    assert '<dl class="kv">' in row and "<dt>name</dt>" in row and '{"' not in row
    assert 'class="who"' in row
    audit = client.get("/ui/audit").text
    assert 'id="audit-filter"' in audit and "更多筛选条件" in audit and '"digest": "' not in audit


def test_the_login_page_lists_the_demo_people_in_demo_mode_only(client: TestClient, tmp_path: Path) -> None:
    assert 'id="demo-accounts"' not in client.get("/login").text  # the shared test kefu is no demo
    with own_kefu("sqlite", tmp_path, "demo", demo=True) as k:
        password = demo_password(k.settings.secret_key)
        create_user(k.ctx, NewUser(username="lina", role=Role.AGENT, password=password, display_name="李娜"))
        create_user(k.ctx, NewUser(username="zhangwei", role=Role.AGENT, password="Another-pass-1234"))
        with TestClient(create_app(k), base_url="http://127.0.0.1") as demo:
            page = demo.get("/login").text
            shown = field_of(page, r'(?s)id="demo-accounts">(.*?)</section>')
            assert f'id="demo-password">{password}<' in shown and "lina" in shown and "坐席" in shown
            assert "zhangwei" not in shown  # no longer opens with the demo password
            assert post_login(demo, "lina", password) == "/ui/work-orders"  # the password shown works
    with pytest.raises(ValueError, match="KEFU_DEMO"):
        Settings(environment="production", demo=True, secret_key="x" * 40, database_url="postgresql://x/y")


def test_the_api_list_sorts_on_the_server_and_pages_with_its_cursor(client: TestClient, kefu: Kefu) -> None:
    customer, numbers = _orders(client, kefu)
    reader = make_actor(kefu, Role.SUPERVISOR)
    seen: list[str] = []
    params: dict[str, object] = {"customer": customer["id"], "sort": "-title", "limit": 3}
    while True:
        r = client.get("/api/v1/work-orders", params=params, headers=reader.headers)
        assert r.status_code == 200, r.text
        seen += [w["number"] for w in r.json()["items"]]
        if not r.json()["next_cursor"]:
            break
        params["cursor"] = r.json()["next_cursor"]
    assert seen == [numbers[1], numbers[3], numbers[0], numbers[2]]  # C, B, B (a tie: newer first), A
    for bad in ({"sort": "password"}, {"sort": "title; drop"}, {"sort": "title", "cursor": "abc"}):
        r = client.get("/api/v1/work-orders", params=bad, headers=reader.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] in ("sort", "cursor"), r.text
    # A cursor of one sort does not continue another.
    first = client.get("/api/v1/work-orders", params={**params, "cursor": None, "sort": "due"}, headers=reader.headers)
    other = client.get(
        "/api/v1/work-orders",
        params={"customer": customer["id"], "sort": "title", "cursor": first.json()["next_cursor"]},
        headers=reader.headers,
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "cursor"
