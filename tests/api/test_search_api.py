"""GET /api/v1/search on SQLite and PostgreSQL: what it finds, masked; paging; filters; bad input
answered 422 naming the field."""

from __future__ import annotations

import secrets

import pytest
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, make_actor, new_customer, new_work_order, unique_phone


def _marker() -> str:
    return "api" + secrets.token_hex(4)


def test_search_finds_by_words_number_and_phone_masked(client: TestClient, agent: Actor) -> None:
    marker = _marker()
    phone = unique_phone()
    customer = new_customer(client, agent, name="李华", phone=phone)
    wo = new_work_order(client, agent, customer["id"], title=f"家里宽带经常断网 {marker}")
    for q in (f"宽带 断网 {marker}", wo["number"], wo["number"][-6:], phone, phone[-4:]):
        r = client.get("/api/v1/search", params={"q": q, "limit": 100}, headers=agent.headers)
        assert r.status_code == 200, r.text
        items = {i["work_order"]["number"]: i for i in r.json()["items"]}
        assert wo["number"] in items, q
        found = items[wo["number"]]
        assert found["customer"]["phone"] == f"{phone[:3]}****{phone[-4:]}" and phone not in r.text
        assert found["customer"]["name"] == "李华" and found["score"] > 0


def test_search_pages_with_a_cursor_best_first(client: TestClient, agent: Actor) -> None:
    marker = _marker()
    customer = new_customer(client, agent)
    made = [new_work_order(client, agent, customer["id"], title=f"光纤 {marker}")["number"] for _ in range(3)]
    strong = new_work_order(client, agent, customer["id"], title=f"光纤 光纤 光纤断了 {marker}")["number"]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"q": f"光纤 {marker}", "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/search", params=params, headers=agent.headers)
        assert r.status_code == 200, r.text
        seen += [i["work_order"]["number"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen[0] == strong and sorted(seen) == sorted([*made, strong])


def test_filters_combine_with_the_words(client: TestClient, agent: Actor) -> None:
    marker = _marker()
    customer = new_customer(client, agent)
    a = new_work_order(client, agent, customer["id"], title=f"宽带 {marker}")
    b = new_work_order(client, agent, customer["id"], title=f"宽带 {marker}", category="broadband")
    r = client.post(f"/api/v1/work-orders/{b['number']}/transitions", headers=agent.headers, json={"to": "accepted"})
    assert r.status_code == 200, r.text

    def numbers(**params: object) -> set[str]:
        r = client.get("/api/v1/search", params={"q": f"宽带 {marker}", **params}, headers=agent.headers)
        assert r.status_code == 200, r.text
        return {i["work_order"]["number"] for i in r.json()["items"]}

    assert numbers() == {a["number"], b["number"]}
    assert numbers(status="accepted") == {b["number"]}
    assert numbers(category="broadband.no_connection") == {a["number"]}
    assert numbers(created_from="2000-01-01T00:00:00Z", created_to="2001-01-01T00:00:00Z") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "宽带\x00"}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "。。。"}, "q"),
        ({"q": "宽带", "created_from": "9999-12-31T00:00:00Z"}, "created_from"),
        ({"q": "宽带", "created_to": "0001-01-01T00:00:00Z"}, "created_to"),
        ({"q": "宽带", "created_from": "yesterday"}, "created_from"),
        ({"q": "宽带", "team": "99999999999999999999999"}, "team"),
        ({"q": "宽带", "status": "nope"}, "status"),
        ({"q": "宽带", "cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"q": "宽带", "limit": "0"}, "limit"),
        ({"q": "宽带", "category": "宽带!!"}, "category"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, agent: Actor, params: dict[str, str], field: str
) -> None:
    r = client.get("/api/v1/search", params=params, headers=agent.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text


def test_anonymous_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/search", params={"q": "宽带"}).status_code == 401


def test_an_auditor_searches_too(client: TestClient, kefu: Kefu, agent: Actor) -> None:
    marker = _marker()
    wo = new_work_order(client, agent, new_customer(client, agent)["id"], title=f"投诉 {marker}")
    auditor = make_actor(kefu, Role.AUDITOR)
    r = client.get("/api/v1/search", params={"q": marker}, headers=auditor.headers)
    assert r.status_code == 200 and [i["work_order"]["number"] for i in r.json()["items"]] == [wo["number"]]
