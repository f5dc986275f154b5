"""The search box in the top bar and /ui/search: results, filters, empty state, bad input."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import make_actor, new_customer, new_work_order, unique_phone
from tests.support.pages import logged_in


def test_the_top_bar_search_finds_a_work_order_by_a_word_masked(client: TestClient, kefu: Kefu) -> None:
    me = logged_in(client, kefu, Role.AGENT)
    marker = "pg" + secrets.token_hex(4)
    phone = unique_phone()
    wo = new_work_order(
        client, me, new_customer(client, me, name="赵敏", phone=phone)["id"], title=f"宽带断网 {marker}"
    )
    listing = client.get("/ui/work-orders")
    assert 'action="/ui/search"' in listing.text  # the box is in the top bar of every staff page
    page = client.get("/ui/search", params={"q": f"断网 {marker}"})
    assert page.status_code == 200
    assert wo["number"] in page.text and "赵敏" in page.text and f"{phone[:3]}****{phone[-4:]}" in page.text
    assert phone not in page.text
    assert f'value="断网 {marker}"' in page.text  # the words stay in the box
    none = client.get("/ui/search", params={"q": f"电视 {marker}"})
    assert none.status_code == 200 and "没有找到" in none.text
    filtered = client.get("/ui/search", params={"q": f"断网 {marker}", "status": "closed"})
    assert filtered.status_code == 200 and wo["number"] not in filtered.text


def test_an_empty_search_explains_and_bad_input_says_what(client: TestClient, kefu: Kefu) -> None:
    logged_in(client, kefu, Role.AGENT)
    empty = client.get("/ui/search")
    assert empty.status_code == 200 and "工单号" in empty.text
    for params in (
        {"q": "宽带\x00"},
        {"q": "宽带", "from": "9999-01-01"},
        {"q": "宽带", "from": "昨天"},
        {"q": "宽带", "team": "1" * 30},
        {"q": "x" * 300},
        {"q": "宽带", "status": "nope"},
    ):
        r = client.get("/ui/search", params=params)
        assert r.status_code == 422, params
        assert 'role="alert"' in r.text


def test_the_search_page_needs_a_login(client: TestClient) -> None:
    r = client.get("/ui/search", params={"q": "宽带"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_another_organisations_work_orders_are_not_on_the_page(client: TestClient, kefu: Kefu) -> None:
    other = make_actor(kefu, Role.AGENT)  # the same centre: sees it
    marker = "pg" + secrets.token_hex(4)
    wo = new_work_order(client, other, new_customer(client, other)["id"], title=f"宽带 {marker}")
    logged_in(client, kefu, Role.AGENT)
    assert wo["number"] in client.get("/ui/search", params={"q": marker}).text
