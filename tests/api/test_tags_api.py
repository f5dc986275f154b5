"""Tags through the API, on SQLite and PostgreSQL: each organisation's list (managed within its
subtree), the free-tags setting, tags added and removed as events, the list filtered by tag, and
hostile input (NUL, huge lists, stale versions)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.audit import AuditAction, AuditFilter
from kefu.domain.org import Role
from kefu.services.audit import read_audit_log
from kefu.services.search import reindex
from tests.support.factories import make_actor, new_user
from tests.support.provinces import Provinces, two_provinces


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield two_provinces(client, kefu)


def _name() -> str:
    return f"回访{secrets.token_hex(2)}"


def add_tag(client: TestClient, w: Provinces, name: str, organisation_id: int | None = None) -> int:
    r = client.post(
        "/api/v1/tags", headers=w.supervisor_p.headers, json={"organisation_id": organisation_id or w.p, "name": name}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_lists_are_managed_within_the_subtree(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w, name = world, _name()
    tag_id = add_tag(client, w, f"  {name}  ")
    again = client.post("/api/v1/tags", headers=w.supervisor_p.headers, json={"organisation_id": w.p, "name": name})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "name"
    # The sibling province's supervisor neither adds to P's list nor changes its tags; an agent manages no list.
    other = client.post("/api/v1/tags", headers=w.supervisor_q.headers, json={"organisation_id": w.p, "name": "x"})
    assert other.status_code == 403
    assert (
        client.patch(f"/api/v1/tags/{tag_id}", headers=w.supervisor_q.headers, json={"active": False}).status_code
        == 404
    )
    assert (
        client.post("/api/v1/tags", headers=w.agent_p.headers, json={"organisation_id": w.p, "name": "y"}).status_code
        == 403
    )
    # P's people read P's list; Q's do not see it.
    assert name in [t["name"] for t in client.get("/api/v1/tags", headers=w.agent_p.headers).json()["items"]]
    assert name not in [t["name"] for t in client.get("/api/v1/tags", headers=w.agent_q.headers).json()["items"]]
    retired = client.patch(f"/api/v1/tags/{tag_id}", headers=w.supervisor_p.headers, json={"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert name not in [t["name"] for t in client.get("/api/v1/tags", headers=w.agent_p.headers).json()["items"]]
    # Each change is in the audit log as a setting change.
    flt = AuditFilter(actions=(AuditAction.SETTING_CHANGED,), subject_type="tag", subject_id=str(tag_id))
    rows = read_audit_log(kefu.ctx, new_user(kefu, Role.ADMIN), flt).records
    assert [r.entry.details["after"] for r in rows] == [
        {"active": False},
        {"name": name, "organisation_id": w.p, "active": True},
    ]


@pytest.mark.parametrize("name", ["a\x00b", "", " ", "x" * 41, "逗号,标签", "tab\tinside\x07", "\u202eevil"])
def test_bad_tag_names_are_refused_naming_the_field(client: TestClient, world: Provinces, name: str) -> None:
    r = client.post("/api/v1/tags", headers=world.supervisor_p.headers, json={"organisation_id": world.p, "name": name})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "name"
    names = [t["name"] for t in client.get("/api/v1/tags", headers=world.supervisor_p.headers).json()["items"]]
    assert name.strip() not in names or not name.strip()


def test_tags_on_a_work_order_are_events_and_filter_the_list(client: TestClient, world: Provinces) -> None:
    w, listed, free = world, _name(), _name()
    add_tag(client, w, listed)
    number, plain = w.work_order(client), w.work_order(client)
    url = f"/api/v1/work-orders/{number}/tags"
    shown = client.get(url, headers=w.agent_p.headers)
    assert shown.status_code == 200 and listed in shown.json()["offered"] and shown.json()["free_tags"] is False
    r = client.post(url, headers={**w.agent_p.headers, "If-Match": shown.headers["etag"]}, json={"add": [listed]})
    assert r.status_code == 200 and r.json()["tags"] == [listed]
    # The version the agent read is gone: a second change from it is refused.
    stale = client.post(
        url, headers={**w.agent_p.headers, "If-Match": shown.headers["etag"]}, json={"remove": [listed]}
    )
    assert stale.status_code == 409
    # A tag outside the list: refused until the province allows free tags.
    refused = client.post(url, headers=w.agent_p.headers, json={"add": [free]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "add"
    assert (
        client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_q.headers, json={"free_tags": True}).status_code
        == 403
    )
    assert (
        client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": True}).status_code
        == 204
    )
    r = client.post(url, headers=w.agent_p.headers, json={"add": [free]})
    assert r.status_code == 200 and r.json()["tags"] == sorted([listed, free])
    client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": False})
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=w.agent_p.headers).json()["events"]
    changes = [e["data"] for e in history if e["kind"] == "tags_changed"]
    assert changes == [{"added": [listed], "removed": []}, {"added": [free], "removed": []}]
    # The list filtered by tag, within the data scope.
    found = client.get("/api/v1/work-orders", headers=w.agent_p.headers, params={"tag": listed}).json()["items"]
    assert [x["number"] for x in found] == [number] and plain not in [x["number"] for x in found]
    assert found[0]["tags"] == sorted([listed, free])
    assert client.get("/api/v1/work-orders", headers=w.agent_q.headers, params={"tag": listed}).json()["items"] == []
    bad = client.get("/api/v1/work-orders", headers=w.agent_p.headers, params={"tag": "a\x00"})
    assert bad.status_code == 422 and "tag" in bad.text
    removed = client.post(url, headers=w.agent_p.headers, json={"remove": [free]})
    assert removed.status_code == 200 and removed.json()["tags"] == [listed]


def test_other_organisations_and_hostile_tag_input(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    number = w.work_order(client)
    url = f"/api/v1/work-orders/{number}/tags"
    assert client.get(url, headers=w.agent_q.headers).status_code == 404
    assert client.post(url, headers=w.agent_q.headers, json={"add": ["x"]}).status_code == 404
    assert client.post(url, json={"add": ["x"]}).status_code == 401
    quality = make_actor(kefu, Role.QUALITY, w.team_p)
    assert client.post(url, headers=quality.headers, json={"add": ["x"]}).status_code == 403
    bodies: list[dict[str, object]] = [
        {"add": ["a\x00b"]},
        {"add": ["标签"] * 10_000},
        {"add": [f"t{i}" for i in range(21)]},
        {"add": ["x" * 41]},
        {"add": []},
        {"add": "not a list"},
        {"add": ["ok"], "extra": 1},
    ]
    for body in bodies:
        r = client.post(url, headers=w.agent_p.headers, json=body)
        assert r.status_code == 422, (body, r.text)
    assert client.get(url, headers=w.agent_p.headers).json()["tags"] == []
    assert (
        client.put(
            f"/api/v1/tag-settings/{2**63}", headers=w.supervisor_p.headers, json={"free_tags": True}
        ).status_code
        == 422
    )
    assert (
        client.put(
            "/api/v1/tag-settings/999999999", headers=w.supervisor_p.headers, json={"free_tags": True}
        ).status_code
        == 422
    )


def test_a_work_order_carries_at_most_twenty_tags(client: TestClient, world: Provinces) -> None:
    w = world
    number = w.work_order(client)
    client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": True})
    try:
        url = f"/api/v1/work-orders/{number}/tags"
        assert (
            client.post(url, headers=w.agent_p.headers, json={"add": [f"t{i}" for i in range(20)]}).status_code == 200
        )
        over = client.post(url, headers=w.agent_p.headers, json={"add": ["one more"]})
        assert over.status_code == 422 and "20" in over.json()["detail"]
    finally:
        client.put(f"/api/v1/tag-settings/{w.p}", headers=w.supervisor_p.headers, json={"free_tags": False})


def test_tags_and_file_names_are_searchable(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w, name = world, f"夜间断网{secrets.token_hex(2)}"
    add_tag(client, w, name)
    number = w.work_order(client)
    assert (
        client.post(f"/api/v1/work-orders/{number}/tags", headers=w.agent_p.headers, json={"add": [name]}).status_code
        == 200
    )
    file_word = f"测速截图{secrets.token_hex(2)}"
    r = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=w.agent_p.headers,
        files={"file": (f"{file_word}.png", b"\x89PNG", "image/png")},
    )
    assert r.status_code == 201

    def found(q: str) -> list[str]:
        r = client.get("/api/v1/search", params={"q": q, "limit": 100}, headers=w.agent_p.headers)
        assert r.status_code == 200, r.text
        return [i["work_order"]["number"] for i in r.json()["items"]]

    assert number in found(name) and number in found(file_word)
    # Another province finds nothing of it; rebuilt from scratch, the index still has both.
    assert client.get("/api/v1/search", params={"q": name}, headers=w.agent_q.headers).json()["items"] == []
    reindex(kefu.ctx)
    assert number in found(name) and number in found(file_word)
