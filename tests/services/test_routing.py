"""Routing through the services on SQLite and PostgreSQL: rules, least-loaded, round robin, skill
match, shift and capacity limits, fallbacks, and the load counter the database keeps."""

from __future__ import annotations

import secrets

from sqlalchemy import text

from kefu.bootstrap import Kefu
from kefu.domain.org import Role, TeamFunction, User
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions
from kefu.domain.workorders import Channel, Status, WorkOrderType
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.dispatch import routing
from kefu.services.org import admin as org_admin
from kefu.services.workorders import commands as svc
from kefu.services.workorders import queries
from tests.support.databases import Database
from tests.support.factories import new_user


class Setup:
    def __init__(self, k: Kefu) -> None:
        self.k = k
        self.admin = new_user(k, Role.ADMIN, prefix="adm")
        self.region = f"区{secrets.token_hex(4)}"  # the rules of this test match only its own customers
        home = org_admin.list_organisations(k.ctx, self.admin)[0]
        self.org_id = home.id or 0
        self.registrar = self.person(Role.AGENT)

    def team(self, function: TeamFunction = TeamFunction.TECH_SUPPORT) -> int:
        t = org_admin.add_team(
            self.k.ctx, self.admin, organisation_id=self.org_id, name=f"组{secrets.token_hex(3)}", function=function
        )
        return t.id or 0

    def person(self, role: Role = Role.TECH_SUPPORT, team_id: int | None = None, **profile: object) -> User:
        user = new_user(self.k, role, prefix="u", team_id=team_id)
        if profile:
            user = org_admin.update_agent(self.k.ctx, self.admin, user.id or 0, org_admin.AgentProfile(**profile))  # type: ignore[arg-type]
        return user

    def rule(
        self,
        team_id: int,
        strategy: Strategy = Strategy.LEAST_LOADED,
        fallback: int | None = None,
        categories: tuple[str, ...] = (),
    ) -> RoutingRule:
        return routing.save_rule(
            self.k.ctx,
            self.admin,
            RoutingRule(
                id=None,
                name=f"rule-{secrets.token_hex(4)}",
                position=10,
                team_id=team_id,
                strategy=strategy,
                fallback_team_id=fallback,
                conditions=Conditions(regions=(self.region,), categories=categories),
            ),
        )

    def order(self, category: str = "broadband.no_connection", region: str | None = None) -> str:
        customer = register_customer(
            self.k.ctx,
            self.registrar,
            NewCustomer(name="张三", phone="139" + f"{secrets.randbelow(10**8):08d}", region=region or self.region),
        )
        wo, _ = svc.register_work_order(
            self.k.ctx,
            self.registrar,
            svc.NewWorkOrder(
                customer_id=customer.id or 0,
                type=WorkOrderType.FAULT,
                category=category,
                channel=Channel.WEB,
                title="宽带故障",
                description="无法上网",
            ),
        )
        return wo.number

    def handler(self, number: str) -> tuple[int | None, int | None]:
        wo, _ = queries.get_work_order(self.k.ctx, self.admin, number)
        return wo.team_id, wo.handler_id

    def routed(self, number: str) -> dict[str, object]:
        history, _ = queries.work_order_history(self.k.ctx, self.admin, number)
        return next(e.data for e in history if e.kind.value == "routed")


def test_least_loaded_spreads_work_and_records_the_rule(kefu: Kefu) -> None:
    s = Setup(kefu)
    team = s.team()
    a, b = s.person(team_id=team), s.person(team_id=team)
    rule = s.rule(team)
    first, second, third = s.order(), s.order(), s.order()
    assert [s.handler(n) for n in (first, second)] == [(team, a.id), (team, b.id)]
    assert s.handler(third) == (team, a.id)  # 1 each: the tie goes to the lower id
    decision = s.routed(first)
    assert decision["rule_id"] == rule.id and decision["rule"] == rule.name and decision["reason"] == "rule"
    # The registrar stays first-ask owner.
    wo, _ = queries.get_work_order(kefu.ctx, s.admin, first)
    assert wo.owner_id == s.registrar.id


def test_never_to_someone_off_shift_or_at_capacity_then_fallback_then_queue(kefu: Kefu) -> None:
    s = Setup(kefu)
    team, spare = s.team(), s.team()
    s.person(team_id=team, on_shift=False)
    full = s.person(team_id=team, capacity=1)
    backup = s.person(team_id=spare, capacity=1)
    s.rule(team, fallback=spare)
    first = s.order()
    assert s.handler(first) == (team, full.id)  # the only one on shift with room
    second = s.order()
    assert s.handler(second) == (spare, backup.id) and s.routed(second)["reason"] == "fallback"
    third = s.order()
    assert s.handler(third) == (team, None) and s.routed(third)["reason"] == "queued"
    # Finishing a work order frees the place: the next one goes to that agent again.
    svc.transition_work_order(kefu.ctx, s.admin, first, Status.CANCELLED, note="客户撤销")
    assert s.handler(s.order()) == (team, full.id)


def test_round_robin_takes_turns(kefu: Kefu) -> None:
    s = Setup(kefu)
    team = s.team()
    people = [s.person(team_id=team) for _ in range(3)]
    s.rule(team, Strategy.ROUND_ROBIN)
    handlers = [s.handler(s.order())[1] for _ in range(4)]
    ids = [p.id for p in people]
    assert handlers == [ids[0], ids[1], ids[2], ids[0]]


def test_skill_match_only_gives_work_to_the_skilled(kefu: Kefu) -> None:
    s = Setup(kefu)
    team, general = s.team(), s.team()
    s.person(team_id=team, skills=("mobile_network",))
    fibre = s.person(team_id=team, skills=("broadband",))
    anyone = s.person(team_id=general)
    s.rule(team, Strategy.SKILL_MATCH, fallback=general)
    assert s.handler(s.order("broadband.modem_fault")) == (team, fibre.id)
    # Nobody in the team knows fixed lines: the fallback team's generalists take it.
    assert s.handler(s.order("fixed_line.no_dial_tone")) == (general, anyone.id)


def test_without_a_matching_rule_the_registrar_keeps_it(kefu: Kefu) -> None:
    s = Setup(kefu)
    s.rule(s.team())
    number = s.order(region="别处")
    assert s.handler(number)[1] == s.registrar.id
    history, _ = queries.work_order_history(kefu.ctx, s.admin, number)
    assert "routed" not in [e.kind.value for e in history]


def test_the_load_counter_follows_every_change(kefu: Kefu) -> None:
    """users.open_assigned is kept by the database; it must equal the real count at all times."""
    s = Setup(kefu)
    team = s.team()
    agent = s.person(team_id=team)
    other = s.person(team_id=team)
    s.rule(team, Strategy.ROUND_ROBIN)
    numbers = [s.order() for _ in range(4)]
    svc.transition_work_order(kefu.ctx, s.admin, numbers[0], Status.CANCELLED, note="撤销")
    svc.transition_work_order(kefu.ctx, s.admin, numbers[1], Status.ACCEPTED)
    routing.assign_work_order(kefu.ctx, s.admin, numbers[2], team_id=None, handler_id=other.id)
    svc.transition_work_order(kefu.ctx, s.admin, numbers[1], Status.RESOLVED)  # still open (resolved)

    def check() -> None:
        with kefu.engine.connect() as conn:
            for person in (agent, other):
                counter, changes, real = conn.execute(
                    text(
                        "SELECT open_assigned, (SELECT coalesce(sum(delta), 0) FROM load_changes WHERE user_id = users.id), "  # noqa: E501
                        "(SELECT count(*) FROM work_orders WHERE handler_id = users.id AND status IN "
                        "('accepted','callback','dispatched','in_progress','new','pending','resolved','returned')) "
                        "FROM users WHERE id = :id"
                    ),
                    {"id": person.id},
                ).one()
                assert counter + changes == real

    check()
    routing.fold_loads(kefu.ctx)  # what the worker does: the changes go into the counter
    check()
    with kefu.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM load_changes WHERE user_id IN (:a, :b)"), {"a": agent.id, "b": other.id}
            ).scalar_one()
            == 0
        )
    agents = {u.id: u for u in org_admin.list_agents(kefu.ctx, s.admin, team_id=team)}
    assert agents[other.id].open_assigned >= 1


def test_assignment_by_hand_respects_shift_and_capacity(kefu: Kefu) -> None:
    import pytest

    from kefu.domain.errors import ValidationFailed

    s = Setup(kefu)
    team = s.team()
    resting = s.person(team_id=team, on_shift=False)
    number = s.order(region="别处")
    with pytest.raises(ValidationFailed) as err:
        routing.assign_work_order(kefu.ctx, s.admin, number, team_id=None, handler_id=resting.id)
    assert "off shift" in err.value.message
    assert s.handler(number)[1] == s.registrar.id  # nothing changed
    # An agent sets their own shift; then it works.
    org_admin.update_agent(kefu.ctx, resting, resting.id or 0, org_admin.AgentProfile(on_shift=True))
    routing.assign_work_order(kefu.ctx, s.admin, number, team_id=None, handler_id=resting.id)
    assert s.handler(number) == (team, resting.id)


def test_two_decisions_at_once_never_overfill_an_agent(kefu: Kefu, database: Database) -> None:
    """PostgreSQL, real threads: the agent's row is locked by the first decision, so the second sees
    the place taken and queues the work order instead of exceeding the capacity."""
    import threading

    import pytest

    if database.backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    s = Setup(kefu)
    team = s.team()
    only = s.person(team_id=team, capacity=1)
    s.rule(team)
    barrier = threading.Barrier(4)
    numbers: list[str] = []

    def register() -> None:
        barrier.wait()
        numbers.append(s.order())

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handlers = [s.handler(n)[1] for n in numbers]
    assert sorted(handlers, key=lambda h: h or 0) == [None, None, None, only.id]
