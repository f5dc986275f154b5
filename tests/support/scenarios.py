"""Ready-made organisations with their people, for the tests of dispatch and field service."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import make_actor, new_customer, new_organisation, new_team, new_work_order


class Centre:
    """A repair centre: reception with an agent; field repair with a lead and three engineers — one
    skilled in broadband, one generalist in the same region, and one off shift."""

    def __init__(self, client: TestClient, kefu: Kefu) -> None:
        admin = make_actor(kefu, Role.ADMIN)
        self.org = new_organisation(client, admin, "维修中心", "city")
        self.reception = new_team(client, admin, self.org, "客户接待组", "reception")
        self.field = new_team(client, admin, self.org, "现场维修组", "field_repair")
        self.agent = make_actor(kefu, Role.AGENT, self.reception)
        self.lead = make_actor(kefu, Role.SUPERVISOR, self.field)
        self.fibre = make_actor(kefu, Role.FIELD_ENGINEER, self.field)
        self.generalist = make_actor(kefu, Role.FIELD_ENGINEER, self.field)
        self.resting = make_actor(kefu, Role.FIELD_ENGINEER, self.field)
        for who, profile in (
            (self.fibre, {"skills": ["broadband"], "region": "天河"}),
            (self.generalist, {"region": "天河"}),
            (self.resting, {"on_shift": False}),
        ):
            r = client.patch(f"/api/v1/agents/{who.id}", headers=admin.headers, json=profile)
            assert r.status_code == 200, r.text

    def case(self, client: TestClient, **over: object) -> str:
        """A work order registered by the reception agent for a new customer in the engineers' region."""
        customer = new_customer(client, self.agent, name="陈女士", region="天河", address="广州市天河区天河路385号1201")
        return str(new_work_order(client, self.agent, customer["id"], **over)["number"])
