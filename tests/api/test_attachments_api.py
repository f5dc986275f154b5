"""Files uploaded to work orders through the API, on SQLite and PostgreSQL: the limits e-mail
attachments have (413 over the size, 422 for a type kefu does not keep; nothing stored), safe names
and safe serving, the timeline, and the data scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, make_actor
from tests.support.provinces import Provinces, two_provinces

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[Provinces]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield two_provinces(client, kefu)


def upload(
    client: TestClient, actor: Actor, number: str, name: str, content: bytes, kind: str, **fields: str
) -> Response:
    response: Response = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=actor.headers,
        files={"file": (name, content, kind)},
        data=fields,
    )
    return response


def files_of(client: TestClient, actor: Actor, number: str) -> list[dict[str, object]]:
    r = client.get(f"/api/v1/work-orders/{number}/attachments", headers=actor.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_upload_list_download_and_timeline(client: TestClient, world: Provinces) -> None:
    w = world
    number = w.work_order(client)
    r = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=w.agent_p.headers,
        files={"file": ("光猫照片.png", PNG, "image/png")},
        data={"customer_visible": "true"},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["filename"], made["size"], made["customer_visible"], made["by_customer"]) == (
        "光猫照片.png",
        len(PNG),
        True,
        False,
    )
    assert r.headers["location"] == made["url"]
    got = client.get(made["url"], headers=w.agent_p.headers)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers["content-security-policy"]
    assert got.headers["content-disposition"] == "inline; filename*=UTF-8''%E5%85%89%E7%8C%AB%E7%85%A7%E7%89%87.png"
    pdf = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers=w.agent_p.headers,
        files={"file": ("报告.pdf", b"%PDF-1.4 test", "application/pdf")},
    )
    assert pdf.status_code == 201 and pdf.json()["customer_visible"] is False
    served = client.get(pdf.json()["url"], headers=w.agent_p.headers)
    assert served.headers["content-disposition"].startswith("attachment;")
    assert [f["filename"] for f in files_of(client, w.agent_p, number)] == ["光猫照片.png", "报告.pdf"]
    history = client.get(f"/api/v1/work-orders/{number}/history", headers=w.agent_p.headers).json()["events"]
    added = [e for e in history if e["kind"] == "file_added"]
    assert [(e["data"]["filename"], e["visibility"]) for e in added] == [
        ("光猫照片.png", "customer"),
        ("报告.pdf", "internal"),
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("a\x00b\x01.txt", "a%00b%01.txt"),  # as the client library sends it
        ("\u202etxt.exe.txt", "txt.exe.txt"),
        ("....", "attachment"),
        ("名" * 300 + ".txt", "名" * 196 + ".txt"),  # 200 characters, the extension kept
    ],
)
def test_file_names_are_made_safe(client: TestClient, world: Provinces, given: str, stored: str) -> None:
    number = world.work_order(client)
    r = upload(client, world.agent_p, number, given, b"hello", "text/plain")
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == stored


def test_control_characters_in_a_raw_file_name_are_dropped(client: TestClient, world: Provinces) -> None:
    number = world.work_order(client)
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="file"; filename="..\\a\x00b\x1b\xe6\x95\x85.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
    )
    r = client.post(
        f"/api/v1/work-orders/{number}/attachments",
        headers={**world.agent_p.headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
        content=body,
    )
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "ab故.txt"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("x.html", "text/html"), ("x.svg", "image/svg+xml"), ("x.exe", "application/x-msdownload"), ("x", "")],
)
def test_forbidden_types_are_refused_and_nothing_is_stored(
    client: TestClient, world: Provinces, name: str, kind: str
) -> None:
    number = world.work_order(client)
    r = upload(client, world.agent_p, number, name, b"<script>alert(1)</script>", kind or "application/octet-stream")
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["field"] == "file" and "not accepted" in body["detail"]
    assert files_of(client, world.agent_p, number) == []


def test_oversize_and_empty_files_are_refused(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    number = world.work_order(client)
    limit = kefu.ctx.max_attachment_bytes
    r = upload(client, world.agent_p, number, "big.pdf", b"x" * (limit + 1), "application/pdf")
    assert r.status_code == 413 and "MB" in r.json()["detail"]
    # Far over: refused before the body is read.
    r = upload(client, world.agent_p, number, "huge.pdf", b"x" * (limit + 200 * 1024), "application/pdf")
    assert r.status_code == 413
    assert upload(client, world.agent_p, number, "empty.txt", b"", "text/plain").status_code == 422
    assert files_of(client, world.agent_p, number) == []
    missing = client.post(f"/api/v1/work-orders/{number}/attachments", headers=world.agent_p.headers)
    assert missing.status_code == 422 and "file" in missing.text


def test_other_organisations_see_nothing(client: TestClient, world: Provinces, kefu: Kefu) -> None:
    w = world
    number, other = w.work_order(client), w.work_order(client)
    made = upload(client, w.agent_p, number, "a.txt", b"secret", "text/plain").json()
    assert client.get(made["url"], headers=w.agent_q.headers).status_code == 404
    assert client.get(f"/api/v1/work-orders/{number}/attachments", headers=w.agent_q.headers).status_code == 404
    assert upload(client, w.agent_q, number, "b.txt", b"x", "text/plain").status_code == 404
    # The file through another work order's address: not found.
    assert (
        client.get(f"/api/v1/work-orders/{other}/attachments/{made['id']}", headers=w.agent_p.headers).status_code
        == 404
    )
    assert client.get(f"/api/v1/work-orders/{number}/attachments/{2**63}", headers=w.agent_p.headers).status_code == 422
    assert client.get(made["url"]).status_code == 401
    # An auditor reads; it adds no file.
    auditor = make_actor(kefu, Role.AUDITOR)
    assert client.get(made["url"], headers=auditor.headers).status_code == 200
    assert upload(client, auditor, number, "c.txt", b"x", "text/plain").status_code == 403
