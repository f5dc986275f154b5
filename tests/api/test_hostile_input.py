"""Hostile values answer 4xx naming what is wrong, never 500, on the API and the pages alike:
dates at year 1 and 9999 (time-zone arithmetic overflows), superscript digits ("²") and huge
numbers (10**30), non-ASCII signatures, CSRF values, cookies, Idempotency-Key and If-Match, NUL
characters, an agreement with an empty calendar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.databases import Database
from tests.support.factories import Actor, make_actor, new_customer, new_work_order
from tests.support.kefus import own_kefu
from tests.support.pages import csrf_of, login

HUGE = str(10**30)


@pytest.fixture(scope="module")
def hostile(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kefu]:
    with own_kefu(database.backend, tmp_path_factory.mktemp("hostile"), "kefu_hostile", sms_secret="s3cret") as k:
        yield k


@pytest.fixture(scope="module")
def api(hostile: Kefu) -> Iterator[tuple[TestClient, Actor, dict[str, Any], str]]:
    with TestClient(create_app(hostile), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        admin = make_actor(hostile, Role.ADMIN)
        customer = new_customer(c, admin)
        number = new_work_order(c, admin, customer["id"])["number"]
        yield c, admin, customer, number


def refused_naming(r: Response, status: int, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    if field is not None:
        assert field in r.text, r.text


def work_order(customer_id: int, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": customer_id,
        "type": "fault",
        "category": "broadband.no_connection",
        "channel": "hotline",
        "title": "t",
        "description": "d",
    }
    return body | over


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"])
def test_moments_at_the_ends_of_time_are_refused_naming_the_field(
    api: tuple[TestClient, Actor, dict[str, Any], str], moment: str
) -> None:
    c, admin, customer, number = api
    h = admin.headers
    refused_naming(
        c.post("/api/v1/work-orders", headers=h, json=work_order(customer["id"], fault_time=moment)), 422, "fault_time"
    )
    refused_naming(c.get("/api/v1/work-orders", headers=h, params={"created_from": moment}), 422, "created_from")
    refused_naming(
        c.post(
            "/api/v1/cti/events",
            headers=h,
            json={"call_id": "c1", "event": "ringing", "at": moment, "caller": "13800000000"},
        ),
        422,
        "at",
    )
    window = {"engineer_id": admin.id, "window_start": moment, "window_end": moment, "address": "x"}
    refused_naming(c.post(f"/api/v1/work-orders/{number}/visits", headers=h, json=window), 422, "window_start")
    day = moment[:10]
    refused_naming(c.get(f"/api/v1/engineers/{admin.id}/visits", headers=h, params={"day": day}), 422, "day")
    refused_naming(c.put(f"/api/v1/sla/calendars/24x7/days/{day}", headers=h, json={"is_workday": True}), 422, "day")
    refused_naming(c.post("/api/v1/sla/calendars", headers=h, json={"name": "c-ends", "overrides": {day: True}}), 422)
    refused_naming(
        c.get(f"/api/v1/customers/{customer['id']}/sla-statement", headers=h, params={"month": day[:7]}), 422, "month"
    )
    agreement = {"name": "a", "targets": {"resolution": 60}, "compensation_fen_per_hour": 1, "valid_from": day}
    refused_naming(
        c.post(f"/api/v1/customers/{customer['id']}/agreements", headers=h, json=agreement), 422, "valid_from"
    )


def test_numbers_headers_and_text_that_are_not_what_they_claim(
    api: tuple[TestClient, Actor, dict[str, Any], str],
) -> None:
    c, admin, customer, number = api
    h = admin.headers
    for version in ('"²"', '"é"', '"' + HUGE + '"'):
        r = c.post(
            f"/api/v1/work-orders/{number}/priority",
            headers={**h, "If-Match": version.encode()},
            json={"priority": "P1"},
        )
        refused_naming(r, 422, "If-Match")
    r = c.post("/api/v1/work-orders", headers={**h, "Idempotency-Key": "ké".encode()}, json=work_order(customer["id"]))
    refused_naming(r, 422, "Idempotency-Key")
    refused_naming(c.get(f"/api/v1/customers/{HUGE}", headers=h), 422, "customer_id")
    refused_naming(c.get("/api/v1/customers", headers=h, params={"limit": HUGE}), 422, "limit")
    refused_naming(c.get("/api/v1/customers", headers=h, params={"limit": "²"}), 422, "limit")
    refused_naming(c.post("/api/v1/customers", headers=h, json={"name": "a\u0000b", "phone": "13900000001"}), 422)
    assert c.get("/api/v1/customers", headers=h, params={"name": "a\x00b"}).status_code in (200, 422)
    agreement = {"name": "a", "targets": {"resolution": 60}, "compensation_fen_per_hour": 1, "valid_from": "2026-01-01"}
    for calendar in ("", "no-such-calendar"):
        r = c.post(f"/api/v1/customers/{customer['id']}/agreements", headers=h, json=agreement | {"calendar": calendar})
        refused_naming(r, 422, "calendar")
    assert c.get("/api/v1/me", headers={"Authorization": "Bearer kefu_é".encode()}).status_code == 401


def test_webhooks_refuse_non_ascii_signatures_and_timestamps(
    api: tuple[TestClient, Actor, dict[str, Any], str],
) -> None:
    c = api[0]
    assert (
        c.post(
            "/api/v1/channels/sms/inbound", content=b"{}", headers={"X-Kefu-Signature": "sha256=é".encode()}
        ).status_code
        == 401
    )
    assert (
        c.get("/channels/wechat", params={"signature": "é", "timestamp": "1", "nonce": "1", "echostr": "x"}).status_code
        == 401
    )
    assert (
        c.get("/channels/wechat", params={"signature": "a", "timestamp": "²", "nonce": "1", "echostr": "x"}).status_code
        == 401
    )
    assert (
        c.post(
            "/channels/wechat", params={"signature": "é", "timestamp": "²", "nonce": "é"}, content=b"<xml/>"
        ).status_code
        == 401
    )


def test_page_forms_queries_paths_and_cookies(
    hostile: Kefu, api: tuple[TestClient, Actor, dict[str, Any], str]
) -> None:
    _, _, customer, number = api
    with TestClient(create_app(hostile), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        login(c, make_actor(hostile, Role.ADMIN).username)
        csrf = csrf_of(c.get("/ui/work-orders/new").text)
        for query in ({"customer": "²"}, {"customer": HUGE}, {"breach_within": "²"}, {"breach_within": HUGE}):
            assert c.get("/ui/work-orders", params=query).status_code == 200  # shown as a problem with the filter
        assert c.get("/ui/visits/day", params={"day": "0001-01-01"}).status_code == 200
        for path in (f"/ui/visits/day?engineer={HUGE}", f"/ui/visits/{HUGE}", f"/ui/teams/{HUGE}/queue"):
            r = c.get(path)
            assert r.status_code == 422 and "text/html" in r.headers["content-type"], (path, r.text[:200])
        form = {
            "csrf": csrf,
            "type": "fault",
            "channel": "hotline",
            "category": "broadband.no_connection",
            "title": "t",
            "description": "d",
        }
        for over in (
            {"customer_id": "²"},
            {"customer_id": HUGE},
            {"customer_id": str(customer["id"]), "fault_time": "9999-12-31T23:59"},
            {"customer_id": str(customer["id"]), "fault_time": "0001-01-01T00:00"},
            {"customer_id": str(customer["id"]), "severity": "²"},
        ):
            r = c.post("/ui/work-orders", data=form | over)
            assert r.status_code == 422 and "text/html" in r.headers["content-type"], over
        r = c.post("/ui/work-orders", data=form | {"customer_id": str(customer["id"]), "title": "t\x00"})
        assert r.status_code in (303, 200, 422)  # SQLite stores NUL; PostgreSQL refuses it: never 500
        r = c.post(f"/ui/work-orders/{number}/transition", data={"csrf": csrf, "to": "accepted", "version": "²"})
        assert r.status_code == 422
        r = c.post(f"/ui/work-orders/{number}/transition", data={"csrf": "é", "to": "accepted"})
        assert r.status_code == 422
        r = c.post(
            "/ui/admin/calendar-day", data={"csrf": csrf, "calendar": "24x7", "day": "0001-01-01", "is_workday": "1"}
        )
        assert r.status_code == 422 and "day" in r.text
        for user_id in ("²", HUGE):
            assert (
                c.post("/ui/admin/agent", data={"csrf": csrf, "user_id": user_id, "capacity": "1"}).status_code == 422
            )
        r = c.post(
            "/portal/requests",
            data={
                "csrf": csrf,
                "name": "x",
                "phone": "13912345678",
                "type": "fault",
                "description": "hello world",
                "fault_time": "9999-12-31T23:59",
            },
        )
        assert r.status_code == 422 and "fault_time" in r.text
        assert c.post("/portal/track", data={"csrf": csrf, "number": "GDé", "phone": "é"}).status_code == 200
        assert c.post("/portal/verify", data={"csrf": csrf, "number": number, "code": "é²"}).status_code == 422
        assert c.post("/login", data={"csrf": csrf, "username": "é\x00", "password": "é"}).status_code in (401, 422)
    for cookie in ("kefu_csrf=é", "kefu_tz=Etc/GMT+14é", "kefu_session=kefu_é", f"kefu_portal={number}.9999999999.é"):
        with TestClient(create_app(hostile), base_url="http://127.0.0.1", raise_server_exceptions=False) as anonymous:
            headers = {"Cookie": cookie.encode()}
            assert anonymous.get("/ui/work-orders", headers=headers, follow_redirects=False).status_code == 303
            assert anonymous.get(f"/portal/orders/{number}", headers=headers, follow_redirects=False).status_code == 303
            page = anonymous.get("/portal")
            r = anonymous.post(
                "/portal/track", headers=headers, data={"csrf": csrf_of(page.text), "number": number, "phone": "1"}
            )
            assert r.status_code < 500


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-01-01T00:00:00"])
@pytest.mark.parametrize("sort", ["due", "created"])
def test_a_forged_sorted_list_cursor_is_refused(
    api: tuple[TestClient, Actor, dict[str, Any], str], moment: str, sort: str
) -> None:
    import base64
    import json

    c, admin, _, _ = api
    cursor = base64.urlsafe_b64encode(json.dumps(["after", sort, moment, 1]).encode()).decode().rstrip("=")
    r = c.get("/api/v1/work-orders", headers=admin.headers, params={"sort": sort, "cursor": cursor})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    login(c, admin.username)
    page = c.get("/ui/work-orders", params={"sort": sort, "cursor": cursor})
    assert page.status_code < 500 and "cursor" not in page.text.split("<main", 1)[0] and "无法识别" in page.text


def test_line_breaks_in_one_line_fields_are_stored_as_spaces(
    api: tuple[TestClient, Actor, dict[str, Any], str],
) -> None:
    # A title comes back as the Subject of an e-mail reply: it never carries a line break.
    c, admin, customer, _ = api
    made = new_work_order(c, admin, customer["id"], title="断网\r\nBcc: x@example.com", fault_place="甲路\n1号\t2楼")
    assert made["title"] == "断网 Bcc: x@example.com"
    r = c.patch(
        f"/api/v1/work-orders/{made['number']}",
        headers=admin.headers,
        json={"title": "b\r\nX-Evil: 1", "device": "光猫\x07"},
    )
    assert r.status_code == 200, r.text
    again = c.get(f"/api/v1/work-orders/{made['number']}", headers=admin.headers).json()
    assert again["title"] == "b X-Evil: 1" and again.get("device") in ("光猫", None)


def test_a_nul_character_is_refused_naming_the_field_that_holds_it(
    api: tuple[TestClient, Actor, dict[str, Any], str],
) -> None:
    c, admin, _, number = api
    r = c.post("/api/v1/customers", headers=admin.headers, json={"name": "王\x00五", "phone": "13900000000"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name"]
    r = c.post(
        "/api/v1/work-orders/bulk",
        headers=admin.headers,
        json={"action": "tag", "items": [{"number": number}], "params": {"add": ["好", "坏\x00"]}},
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["params.add.1"]
