"""Routing decisions per second on PostgreSQL with 200 rules, 2,000 agents and 1,000,000 open work
orders.

    .venv/bin/python bench/routing.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

The script makes its own database next to the given one (and drops it): 100 teams of 20 agents,
200 routing rules (rule i matches region i, least loaded, round robin or skill match, with a fallback
team), the given number of open work orders handled by those agents, spread evenly.

In one run, alternating slices of the same length, it measures
  * `decide` alone: a routing decision inside a transaction that is rolled back (rules are cached;
    the decision reads the team's members and their open-load counters and locks the chosen one),
  * whole registrations through the service with a rule that matches (decision + work order),
  * whole registrations whose customer no rule matches (no decision), for the cost of routing,
and prints EXPLAIN of the candidates query, to show it reads the users index, never work_orders.
Every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import machine  # noqa: E402

from kefu.adapters.db.migrate import upgrade  # noqa: E402
from kefu.bootstrap import Kefu, build  # noqa: E402
from kefu.config import Settings  # noqa: E402
from kefu.domain.customers import CustomerProfile, Tier  # noqa: E402
from kefu.domain.org import Role  # noqa: E402
from kefu.domain.routing import RoutingRule, Strategy  # noqa: E402
from kefu.domain.sla import Conditions  # noqa: E402
from kefu.domain.workorders import Channel, WorkOrder, WorkOrderType  # noqa: E402
from kefu.services.access.accounts import NewUser, create_user  # noqa: E402
from kefu.services.dispatch import routing  # noqa: E402
from kefu.services.org.reference import seed_reference_data  # noqa: E402
from kefu.services.workorders import commands as svc  # noqa: E402

TEAMS, PER_TEAM, RULES = 100, 20, 200
STRATEGIES = [Strategy.LEAST_LOADED, Strategy.ROUND_ROBIN, Strategy.SKILL_MATCH]


def load(k: Kefu, open_orders: int) -> tuple[list[int], int, int]:
    """Teams, agents, rules, customers (one per rule region and one nobody routes) and open work orders."""
    seed_reference_data(k.ctx)
    now = datetime.now(UTC)
    with k.engine.begin() as conn:
        org = conn.execute(text("SELECT min(id) FROM organisations")).scalar_one()
        system = conn.execute(text("SELECT id FROM users WHERE username = 'system'")).scalar_one()
        team_ids = [
            conn.execute(
                text(
                    "INSERT INTO teams (organisation_id, name, function) VALUES (:o, :n, 'tech_support') RETURNING id"
                ),
                {"o": org, "n": f"bench-{i}"},
            ).scalar_one()
            for i in range(TEAMS)
        ]
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, role, password_hash, organisation_id, team_id, region, "
                "skills, languages, capacity, on_shift, created_at) "
                "SELECT 'agent' || g, 'agent ' || g, 'tech_support', '!', :o, (:teams)[1 + g % :t], "
                "'r' || (g % 50), CASE WHEN g % 3 = 0 THEN '[\"broadband\"]' ELSE '[]' END::jsonb, '[]'::jsonb, "
                "100000, g % 10 <> 0, :now FROM generate_series(0, :n - 1) g"
            ),
            {"o": org, "teams": team_ids, "t": TEAMS, "n": TEAMS * PER_TEAM, "now": now},
        )
        agents = [r[0] for r in conn.execute(text("SELECT id FROM users WHERE username LIKE 'agent%' ORDER BY id"))]
        customers = [
            conn.execute(
                text(
                    "INSERT INTO customers (name, phone, tier, region, services, devices, tags, created_at) "
                    "VALUES ('bench', :p, 'standard', :r, '[]', '[]', '[]', :t) RETURNING id"
                ),
                {"p": f"139{i:08d}", "r": f"region-{i}", "t": now},
            ).scalar_one()
            for i in range(RULES + 1)
        ]
        conn.execute(text("ALTER TABLE work_orders DISABLE TRIGGER work_orders_count_assigned"))
        conn.execute(
            text(
                "INSERT INTO work_orders (number, customer_id, type, category, channel, priority, severity, title, "
                "description, status, owner_id, handler_id, team_id, created_by, created_at, updated_at, "
                "organisation_id) SELECT 'GD1999' || lpad(g::text, 10, '0'), :c, 'fault', 'broadband.no_connection', "
                "'hotline', 'P3', 3, 't', 'd', 'in_progress', :s, (:agents)[1 + g % :na], NULL, :s, :now, :now, :o "
                "FROM generate_series(1, :n) g"
            ),
            {
                "c": customers[0],
                "s": system,
                "agents": agents,
                "na": len(agents),
                "now": now,
                "o": org,
                "n": open_orders,
            },
        )
        conn.execute(text("ALTER TABLE work_orders ENABLE TRIGGER work_orders_count_assigned"))
        conn.execute(
            text(
                "UPDATE users u SET open_assigned = c.n FROM (SELECT handler_id, count(*) n FROM work_orders "
                "WHERE status = 'in_progress' GROUP BY handler_id) c WHERE u.id = c.handler_id"
            )
        )
        conn.execute(text("ANALYZE"))
    admin = create_user(k.ctx, NewUser(username="bench-admin", role=Role.ADMIN, password="bench-password-42"))
    create_user(k.ctx, NewUser(username="bench-agent", role=Role.AGENT, password="bench-password-42"))
    for i in range(RULES):
        routing.save_rule(
            k.ctx,
            admin,
            RoutingRule(
                id=None,
                name=f"rule-{i}",
                position=i,
                team_id=team_ids[i % TEAMS],
                strategy=STRATEGIES[i % 3],
                fallback_team_id=team_ids[(i + 1) % TEAMS],
                conditions=Conditions(regions=(f"region-{i}",)),
            ),
        )
    return customers, system, admin.id or 0


def timed_slices(fns: dict[str, object], seconds: float, slices: int = 6) -> dict[str, float]:
    """Operations per second of each function, in alternating slices of equal length."""
    done = dict.fromkeys(fns, 0)
    spent = dict.fromkeys(fns, 0.0)
    for _ in range(slices):
        for name, fn in fns.items():
            end = time.perf_counter() + seconds / slices / len(fns)
            start = time.perf_counter()
            while time.perf_counter() < end:
                fn()  # type: ignore[operator]
                done[name] += 1
            spent[name] += time.perf_counter() - start
    return {name: done[name] / spent[name] for name in fns}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="a PostgreSQL URL; a database is made next to it")
    parser.add_argument("--open", type=int, default=1_000_000, help="open work orders")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    base = make_url(args.pg).set(drivername="postgresql+psycopg")
    name = f"kefu_routing_{uuid.uuid4().hex[:6]}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        k = build(Settings(environment="test", database_url=url, embedded_worker=False))
        upgrade(k.engine)
        started = time.perf_counter()
        customers, system, admin_id = load(k, args.open)
        print("machine:", machine())
        print(
            f"loaded {args.open:,} open work orders, {TEAMS * PER_TEAM:,} agents, {RULES} rules "
            f"in {time.perf_counter() - started:.0f} s"
        )
        with k.ctx.uow() as uow:
            admin = uow.users.get(admin_id)
            agent = uow.users.get_by_username("bench-agent")
        assert admin is not None and agent is not None
        rng = random.Random(7)
        profile_of = {
            cid: CustomerProfile(tier=Tier.STANDARD, region=f"region-{i}", agreement_id=None)
            for i, cid in enumerate(customers)
        }
        sample = svc.NewWorkOrder(
            customer_id=customers[1],
            type=WorkOrderType.FAULT,
            category="broadband.no_connection",
            channel=Channel.WEB,
            title="t",
            description="d",
        )

        def decide() -> None:
            i = rng.randrange(RULES)
            wo = WorkOrder.register(
                customer_id=customers[i],
                type=WorkOrderType.FAULT,
                category="broadband.no_connection",
                channel=Channel.WEB,
                title="t",
                description="d",
                actor_id=system,
                at=datetime.now(UTC),
            )
            with k.ctx.uow(write=True) as uow:
                routing.decide(k.ctx, uow, wo, profile_of[customers[i]])
                uow.rollback()

        def register_routed() -> None:
            svc.register_work_order(
                k.ctx, agent, svc.NewWorkOrder(**{**sample.__dict__, "customer_id": customers[rng.randrange(RULES)]})
            )

        def register_unrouted() -> None:
            svc.register_work_order(
                k.ctx, agent, svc.NewWorkOrder(**{**sample.__dict__, "customer_id": customers[RULES]})
            )

        rates = timed_slices(
            {
                "decide (rolled back)": decide,
                "register, a rule matches": register_routed,
                "register, no rule matches": register_unrouted,
            },
            args.seconds,
        )
        for label, rate in rates.items():
            print(f"{label:32s} {rate:8.0f} /s")
        routed, unrouted = rates["register, a rule matches"], rates["register, no rule matches"]
        print(f"registration with routing / without: {routed / unrouted:.2f}")
        with k.engine.connect() as conn:
            plan = (
                conn.execute(
                    text(
                        "EXPLAIN SELECT id, open_assigned, capacity, on_shift, skills, languages, region FROM users "
                        "WHERE team_id = (SELECT min(id) FROM teams WHERE name LIKE 'bench-%') AND active AND "
                        "role IN ('agent', 'tech_support', 'field_engineer')"
                    )
                )
                .scalars()
                .all()
            )
        print("candidates query plan:\n  " + "\n  ".join(plan))
        k.engine.dispose()
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()
