"""Users, API tokens, customers, work orders, organisations and teams for the tests: through the
services where a test needs a user or a token, through the HTTP API for what the API tests use."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role, User
from kefu.domain.workorders import Channel, WorkOrder, WorkOrderType
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.access.tokens import create_api_token
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.workorders import commands

PASSWORD = "correct-horse-42"

Json = dict[str, Any]
"""A JSON object as the API answers it."""

UNMASK = {"unmask": "true", "reason": "identity_verified"}
"""Query parameters that ask for a customer unmasked, with a reason (R3)."""


@dataclass
class Actor:
    username: str
    id: int
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}


def new_user(kefu: Kefu, role: Role, *, prefix: str = "", **fields: Any) -> User:
    """A user with a fresh name (`prefix` and random hex) and the test password."""
    username = f"{prefix or role.value.replace('_', '')}{secrets.token_hex(4)}"
    return create_user(kefu.ctx, NewUser(username=username, role=role, password=PASSWORD, **fields))


def make_actor(kefu: Kefu, role: Role, team_id: int | None = None) -> Actor:
    """A user with an API token, for requests through HTTP."""
    user = new_user(kefu, role, team_id=team_id)
    assert user.id is not None
    return Actor(user.username, user.id, role, create_api_token(kefu.ctx, user.username, name="tests").token)


def unique_phone() -> str:
    return "139" + f"{secrets.randbelow(10**8):08d}"


def new_customer(client: TestClient, actor: Actor, **fields: Any) -> Json:
    """A customer registered through the API: a name and a fresh phone number unless `fields` say otherwise."""
    r = client.post(
        "/api/v1/customers", headers=actor.headers, json={"name": "王小明", "phone": unique_phone(), **fields}
    )
    assert r.status_code == 201, r.text
    customer: Json = r.json()
    return customer


def registered_work_order(
    kefu: Kefu,
    actor: User,
    customer: NewCustomer | None = None,
    *,
    type: WorkOrderType = WorkOrderType.FAULT,
    category: str = "broadband.no_connection",
    title: str = "宽带断网",
    description: str = "光猫红灯",
) -> WorkOrder:
    """A hotline work order registered through the services, for a new customer (by default 王小明
    with a fresh phone number)."""
    found = register_customer(kefu.ctx, actor, customer or NewCustomer(name="王小明", phone=unique_phone()))
    assert found.id is not None
    wo, _ = commands.register_work_order(
        kefu.ctx,
        actor,
        commands.NewWorkOrder(
            customer_id=found.id,
            type=type,
            category=category,
            channel=Channel.HOTLINE,
            title=title,
            description=description,
        ),
    )
    return wo


def work_order_body(customer_id: int, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": customer_id,
        "type": "fault",
        "category": "broadband.no_connection",
        "channel": "hotline",
        "title": "宽带无法连接",
        "description": "光猫LOS灯红色闪烁，重启无效。",
    }
    body.update(over)
    return body


def new_work_order(client: TestClient, actor: Actor, customer_id: int, **over: object) -> Json:
    """A work order registered through the API (`over` changes the body of `work_order_body`)."""
    r = client.post("/api/v1/work-orders", headers=actor.headers, json=work_order_body(customer_id, **over))
    assert r.status_code == 201, r.text
    work_order: Json = r.json()
    return work_order


def new_organisation(client: TestClient, admin: Actor, name: str, kind: str, parent: int | None = None) -> int:
    """An organisation through the API; its name gets a random suffix (names are unique)."""
    r = client.post(
        "/api/v1/organisations",
        headers=admin.headers,
        json={"name": f"{name}-{secrets.token_hex(3)}", "kind": kind, "parent_id": parent},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def new_team(client: TestClient, admin: Actor, organisation_id: int, name: str, function: str) -> int:
    r = client.post(
        "/api/v1/teams",
        headers=admin.headers,
        json={"organisation_id": organisation_id, "name": name, "function": function},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])
