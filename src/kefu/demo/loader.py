"""Loads generated demo data: demo agents through the services, bulk rows through the bulk loader."""

from __future__ import annotations

from rich.progress import Progress

from kefu.adapters.db import numbering
from kefu.adapters.db.tables import customers as customers_table
from kefu.adapters.db.tables import work_orders as work_orders_table
from kefu.bootstrap import Kefu
from kefu.demo import bulk, generator
from kefu.domain.org import OrgTree, Role, TeamFunction
from kefu.services import search
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.access.demo import DEMO_PEOPLE, demo_password
from kefu.services.org.reference import seed_demo_parties, seed_reference_data
from kefu.services.sla.clocks import rebuild_clocks

DEMO_AGENTS = [(name, display) for name, display, role in DEMO_PEOPLE if role is Role.AGENT]
#: Field engineers of the field-repair team, with the skills and region routing and visits use.
DEMO_ENGINEERS = [
    ("sunqiang", "孙强", ("broadband", "fixed_line"), "广州"),
    ("zhoujie", "周杰", ("mobile_network",), "深圳"),
]


def _demo_agents(k: Kefu) -> list[int]:
    """The demo agents, created once with the demo password (they own the demo work orders)."""
    ids = []
    with k.ctx.uow() as uow:
        teams = uow.org.teams()
        existing = {name: uow.users.get_by_username(name) for name, _ in DEMO_AGENTS}
    for i, (username, display) in enumerate(DEMO_AGENTS):
        user = existing[username]
        if user is None:
            user = create_user(
                k.ctx,
                NewUser(
                    username=username,
                    role=Role.AGENT,
                    password=demo_password(k.settings.secret_key),
                    display_name=display,
                    team_id=teams[i % len(teams)].id if teams else None,
                ),
            )
        assert user.id is not None
        ids.append(user.id)
    return ids


def _demo_engineers_and_supervisors(k: Kefu) -> None:
    with k.ctx.uow() as uow:
        field = next((t for t in uow.org.teams() if t.function is TeamFunction.FIELD_REPAIR), None)
        reception = next((t for t in uow.org.teams() if t.function is TeamFunction.RECEPTION), None)
        missing = {name for name, _, _ in DEMO_PEOPLE if uow.users.get_by_username(name) is None}
    for username, display, skills, region in DEMO_ENGINEERS:
        if username in missing:
            create_user(
                k.ctx,
                NewUser(
                    username=username,
                    role=Role.FIELD_ENGINEER,
                    password=demo_password(k.settings.secret_key),
                    display_name=display,
                    team_id=field.id if field else None,
                    region=region,
                    skills=skills,
                ),
            )
    for username, display, role in DEMO_PEOPLE:
        if role is Role.SUPERVISOR and username in missing:
            create_user(
                k.ctx,
                NewUser(
                    username=username,
                    role=role,
                    password=demo_password(k.settings.secret_key),
                    display_name=display,
                    team_id=reception.id if reception else None,
                ),
            )


def load_demo(k: Kefu, *, customers: int, work_orders: int, seed: int, if_empty: bool, progress: Progress) -> str:
    if if_empty and bulk.next_id(k.engine, work_orders_table) > 1:
        return "demo data skipped: the database already holds work orders"
    seed_reference_data(k.ctx)
    seed_demo_parties(k.ctx)
    agent_ids = _demo_agents(k)
    _demo_engineers_and_supervisors(k)
    with k.ctx.uow() as uow:
        team_ids = [t.id for t in uow.org.teams() if t.id is not None]
        centre = OrgTree(uow.org.organisations()).top_id  # the demo customers belong to it
    now = k.ctx.clock.now()
    first_customer = bulk.next_id(k.engine, customers_table)
    task = progress.add_task("customers", total=customers)
    made = list(generator.customers(customers, seed=seed, first_id=first_customer, now=now))
    bulk.load_customers(k.engine, k.keys, made, lambda n: progress.advance(task, n), centre)
    tiers = {c.id: c.tier for c in made}
    task = progress.add_task("work orders", total=work_orders)
    rows = generator.work_orders(
        work_orders,
        seed=seed,
        first_id=bulk.next_id(k.engine, work_orders_table),
        customer_ids=list(tiers),
        customer_tiers=tiers,
        agent_ids=agent_ids,
        team_ids=team_ids,
        now=now,
        tz=k.settings.tz,
        first_sequence=numbering.last_values(k.engine),
    )
    first_id = bulk.next_id(k.engine, work_orders_table)
    with k.ctx.uow() as uow:
        owner_orgs = {i: u.organisation_id for i, u in uow.users.get_many(agent_ids).items()}
    loaded = bulk.load_work_orders(k.engine, rows, lambda n: progress.advance(task, n), owner_orgs)
    open_ids = bulk.open_ids_from(k.engine, first_id)
    task = progress.add_task("time limits of open work orders", total=len(open_ids))
    for start in range(0, len(open_ids), 1000):
        chunk = open_ids[start : start + 1000]
        rebuild_clocks(k.ctx, chunk)
        progress.advance(task, len(chunk))
    task = progress.add_task("search index", total=loaded)
    search.reindex(k.ctx, after_id=first_id - 1, batch=2000, progress=lambda n: progress.advance(task, n))
    return f"loaded {len(made)} customers and {loaded} work orders (seed {seed})"
