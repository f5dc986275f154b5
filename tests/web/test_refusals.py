"""A refused request answers with the same status code on the pages as through the API (both take it
from kefu.http.errors), and the page shows the form it came from again with the error above it."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.web.security import CSRF_COOKIE
from tests.support.factories import Json, make_actor, work_order_body
from tests.support.pages import csrf_of, login

MISSING = "GD20990101000009"


def test_pages_refuse_with_the_status_the_api_gives(app: FastAPI, kefu: Kefu, customer: Json) -> None:
    agent = make_actor(kefu, Role.AGENT)
    auditor = make_actor(kefu, Role.AUDITOR)  # sees every work order, may change none
    with TestClient(app, base_url="http://127.0.0.1") as api, TestClient(app, base_url="http://127.0.0.1") as page:
        created = api.post("/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"]))
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        login(page, agent.username)
        detail = page.get(f"/ui/work-orders/{number}")
        csrf = csrf_of(detail.text)
        version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)  # type: ignore[union-attr]

        def through_api(to: str, *, who: str = agent.headers["Authorization"], on: str = number, **headers: str) -> int:
            r = api.post(
                f"/api/v1/work-orders/{on}/transitions",
                headers={"Authorization": who, **headers},
                json={"to": to},
            )
            return int(r.status_code)

        def through_page(to: str, *, on: str = number, client: TestClient = page, **form: str) -> tuple[int, str]:
            token = client.cookies[CSRF_COOKIE]  # the double-submit token is the cookie's value
            r = client.post(f"/ui/work-orders/{on}/transition", data={"csrf": token, "to": to, **form})
            return r.status_code, r.text

        # An illegal move (new -> closed): 409 in both; the work-order page again, the error above it.
        status, html = through_page("closed", version=version)
        assert through_api("closed") == status == 409
        assert 'id="error"' in html and "不能转为" in html and 'id="status">' in html

        # Invalid input (a category that does not exist): 422 in both; what was typed is kept.
        body = work_order_body(customer["id"], category="broadband.nope", title="分类不存在")
        assert api.post("/api/v1/work-orders", headers=agent.headers, json=body).status_code == 422
        form = {k: str(v) for k, v in body.items()} | {"csrf": csrf}
        r = page.post("/ui/work-orders", data=form)
        assert r.status_code == 422 and 'value="分类不存在"' in r.text

        # A work order that does not exist: 404 in both, to see it and to move it.
        assert api.get(f"/api/v1/work-orders/{MISSING}", headers=agent.headers).status_code == 404
        assert page.get(f"/ui/work-orders/{MISSING}").status_code == 404
        status, html = through_page("accepted", on=MISSING)
        assert through_api("accepted", on=MISSING) == status == 404

        # Not allowed for the role (an auditor moving a work order): 403 in both; the page is shown again.
        with TestClient(app, base_url="http://127.0.0.1") as auditor_page:
            login(auditor_page, auditor.username)
            status, html = through_page("accepted", client=auditor_page)
        assert through_api("accepted", who=auditor.headers["Authorization"]) == status == 403
        assert 'id="error"' in html and "无权" in html and 'id="status">' in html

        # Someone else changed it meanwhile (a stale version): 409 in both.
        assert api.post(
            f"/api/v1/work-orders/{number}/transitions", headers=agent.headers, json={"to": "accepted"}
        ).is_success
        status, html = through_page("in_progress", version=version)
        assert through_api("in_progress", **{"If-Match": f'"{version}"'}) == status == 409
        assert "已被他人修改" in html
