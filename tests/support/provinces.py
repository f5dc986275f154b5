"""Two sibling provinces below the top organisation, each with a team, an agent and a supervisor, and
a customer and work orders of the first: for tests of what stays inside an organisation subtree."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import Actor, make_actor, new_customer, new_organisation, new_team, new_work_order


@dataclass
class Provinces:
    p: int  # organisation ids
    q: int
    team_p: int
    team_q: int
    agent_p: Actor
    supervisor_p: Actor
    agent_q: Actor
    supervisor_q: Actor
    customer_p: int

    def work_order(self, client: TestClient, **over: object) -> str:
        """A new work order of province P (registered by its agent)."""
        return str(new_work_order(client, self.agent_p, self.customer_p, **over)["number"])


def two_provinces(client: TestClient, kefu: Kefu) -> Provinces:
    admin = make_actor(kefu, Role.ADMIN)
    p = new_organisation(client, admin, "甲省", "province")
    q = new_organisation(client, admin, "丙省", "province")
    team_p = new_team(client, admin, p, "甲省一线", "reception")
    team_q = new_team(client, admin, q, "丙省一线", "reception")
    agent_p = make_actor(kefu, Role.AGENT, team_p)
    return Provinces(
        p=p,
        q=q,
        team_p=team_p,
        team_q=team_q,
        agent_p=agent_p,
        supervisor_p=make_actor(kefu, Role.SUPERVISOR, team_p),
        agent_q=make_actor(kefu, Role.AGENT, team_q),
        supervisor_q=make_actor(kefu, Role.SUPERVISOR, team_q),
        customer_p=int(new_customer(client, agent_p)["id"]),
    )
