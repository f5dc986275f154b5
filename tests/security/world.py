"""The world the matrix test runs in, on a database of its own: the HQ at the top, two sibling provinces
A and B below it, and a vendor. Province A owns everything the others try to reach — a customer with
all the personal data there is, two work orders with notes, hops, visits and contacts (one of them
dispatched to the vendor), a routing rule, people, a saved filter, a change in the change log. Every
role has a user in the HQ, in province B and at the vendor, with an API token and a page session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from kefu.bootstrap import Kefu
from kefu.domain.contacts import Attachment
from kefu.domain.macros import Macro
from kefu.domain.notifications import Message, NotificationFilter
from kefu.domain.org import Organisation, OrganisationKind, Role, TeamFunction, User
from kefu.domain.routing import RoutingRule
from kefu.domain.sla import Conditions
from kefu.domain.workorders import Channel, WorkOrderType
from kefu.services import attachments, macros, tags, workspace
from kefu.services.access.accounts import NewUser, create_user, log_in
from kefu.services.access.tokens import create_api_token
from kefu.services.channels import intake
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.dispatch import hops, routing
from kefu.services.org import admin as org_admin
from kefu.services.org.reference import seed_reference_data
from kefu.services.visits import NewVisit, schedule_visit
from kefu.services.workorders import commands
from tests.security.matrix import Kind
from tests.support.factories import PASSWORD

#: Where the actors are: the top organisation, a sibling province of A, a vendor.
ORGANISATIONS = {"hq": Kind.TOP, "sibling": Kind.OPERATOR, "vendor": Kind.EXTERNAL}


@dataclass
class Actor:
    where: str  # hq, sibling, vendor
    role: Role
    user: User
    token: str
    session: str

    @property
    def kind(self) -> Kind:
        return ORGANISATIONS[self.where]

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def name(self) -> str:
        return f"{self.where}:{self.role.value}"


@dataclass
class Case:
    """A work order of province A and its parts."""

    number: str
    id: int
    customer_id: int  # a customer of A, each case its own
    visit_id: int
    spare_visit_id: int  # another visit, to cancel
    hop_id: int  # A1: to A's field team; A2: to the vendor
    contact_id: int  # a message of the customer about it, with a file
    file_id: int = 0  # a file an agent of A uploaded to it (internal)


@dataclass
class World:
    kefu: Kefu
    hq: int
    a: int
    b: int
    vendor: int
    hq_team: int
    a_reception: int
    a_field: int
    b_team: int
    vendor_team: int
    actors: dict[tuple[str, Role], Actor]
    a_agent: User
    a_supervisor: User
    a_engineer: User
    customer_id: int  # A1's customer
    phone: str  # theirs
    free_contact_id: int  # a message of the customer tied to no work order
    a1: Case
    a2: Case  # dispatched by A to the HQ (answered) and then to the vendor (waiting)
    rule_id: int
    filter_id: int  # a saved filter of A's agent
    policy_id: int
    tag: str
    notification_id: int = 0  # a notification of A's agent (about A1)
    #: What must never reach anyone outside A's scope (the sibling province; the vendor, except what
    #: comes with the work order dispatched to it — see `hidden_from`).
    secrets_of_a: list[str] = field(default_factory=list)
    secrets_of_a2_for_vendor: list[str] = field(default_factory=list)  # A2's, not the vendor's to see
    shown_to_vendor: list[str] = field(default_factory=list)  # A's, visible to the vendor through A2
    #: Personal data: never unmasked for a role without pii.view, a vendor, or anyone out of scope.
    pii: list[str] = field(default_factory=list)
    wo_tag_id: int = 0  # a tag of A's list (A1 carries it)
    macro_id: int = 0  # a macro kept by A (an internal note)
    shared_macro_id: int = 0  # a macro kept by the top organisation (an internal note), for everyone

    def actor(self, where: str, role: Role) -> Actor:
        return self.actors[(where, role)]

    def hidden_from(self, actor: Actor) -> list[str]:
        """A's secrets this actor must not receive."""
        if actor.where == "hq":
            return []
        if actor.where == "vendor":
            return [s for s in self.secrets_of_a if s not in self.shown_to_vendor] + self.secrets_of_a2_for_vendor
        return self.secrets_of_a + self.secrets_of_a2_for_vendor + self.shown_to_vendor


def _org(k: Kefu, name: str, kind: OrganisationKind, parent: int | None = None) -> int:
    with k.ctx.uow(write=True) as uow:
        org = uow.org.add_organisation(Organisation(id=None, name=name, kind=kind, parent_id=parent))
        uow.commit()
    k.ctx.caches.clear_organisation()
    assert org.id is not None
    return org.id


def _user(k: Kefu, role: Role, team: int, prefix: str) -> User:
    return create_user(
        k.ctx,
        NewUser(username=f"{prefix}{secrets.token_hex(3)}", role=role, password=PASSWORD, team_id=team),
    )


def build_world(k: Kefu) -> World:
    tag = secrets.token_hex(3)
    # The HQ first: the top organisation. Then the reference data (its system account at the HQ).
    hq = _org(k, "集团", OrganisationKind.HEADQUARTERS)
    seed_reference_data(k.ctx)
    ctx = k.ctx
    root = create_user(ctx, NewUser(username="root", role=Role.ADMIN, password=PASSWORD))
    a = org_admin.add_organisation(ctx, root, name="甲省", kind=OrganisationKind.PROVINCE, parent_id=hq, region=None)
    b = org_admin.add_organisation(ctx, root, name="乙省", kind=OrganisationKind.PROVINCE, parent_id=hq, region=None)
    v = org_admin.add_organisation(
        ctx, root, name="终端厂商", kind=OrganisationKind.VENDOR, parent_id=None, region=None
    )
    assert a.id and b.id and v.id

    def team(org: int, name: str, function: TeamFunction) -> int:
        t = org_admin.add_team(ctx, root, organisation_id=org, name=name, function=function)
        assert t.id is not None
        return t.id

    hq_team = team(hq, "集团技术支持组", TeamFunction.TECH_SUPPORT)
    a_reception = team(a.id, "甲省客户接待组", TeamFunction.RECEPTION)
    a_field = team(a.id, "甲省现场维修组", TeamFunction.FIELD_REPAIR)
    b_team = team(b.id, "乙省客户接待组", TeamFunction.RECEPTION)
    vendor_team = team(v.id, "厂商热线组", TeamFunction.RECEPTION)

    actors: dict[tuple[str, Role], Actor] = {}
    for where, team_id in (("hq", hq_team), ("sibling", b_team), ("vendor", vendor_team)):
        for role in Role:
            user = _user(k, role, team_id, f"{where[:3]}{role.value.replace('_', '')[:5]}")
            token = create_api_token(ctx, user.username, name="matrix").token
            _, session = log_in(ctx, user.username, PASSWORD)
            actors[(where, role)] = Actor(where, role, user, token, session)

    a_agent = _user(k, Role.AGENT, a_reception, f"jiaagent{tag}")
    a_supervisor = _user(k, Role.SUPERVISOR, a_reception, f"jiasup{tag}")
    a_engineer = _user(k, Role.FIELD_ENGINEER, a_field, f"jiaeng{tag}")
    # An API token of A's agent: its name is A's (the account pages of the agent show it).
    create_api_token(ctx, a_agent.username, name=f"甲令牌{tag}")
    # A change of A's supervisor in the change log.
    org_admin.update_agent(ctx, a_supervisor, a_engineer.id or 0, org_admin.AgentProfile(region=f"甲区{tag}"))

    def customer(n: int, phone: str) -> int:
        found = register_customer(
            ctx,
            a_agent,
            NewCustomer(
                name=f"甲客户{n}{tag}",
                phone=phone,
                brand="全球通",
                region="广州",
                email=f"wang{n}.secret.{tag}@example.cn",
                address=f"广东省广州市越秀区中山五路9号天河大厦{n}201",
                id_number="11010519491231002X",
                services=[f"甲宽带服务{n}{tag}"],
                tags=[f"甲标签{n}{tag}"],
            ),
        )
        assert found.id is not None
        return found.id

    phone, phone2 = ("139" + f"{secrets.randbelow(10**8):08d}" for _ in range(2))
    customer_id, customer2_id = customer(1, phone), customer(2, phone2)

    def case(n: int, customer_id: int, fault_place: str) -> tuple[str, int]:
        wo, _ = commands.register_work_order(
            ctx,
            a_agent,
            commands.NewWorkOrder(
                customer_id=customer_id,
                type=WorkOrderType.FAULT,
                category="broadband.no_connection",
                channel=Channel.HOTLINE,
                title=f"甲{n}标题{tag}",
                description=f"甲{n}描述{tag}",
                fault_place=fault_place,
            ),
        )
        assert wo.id is not None
        commands.add_note(ctx, a_agent, wo.number, f"甲{n}内部备注{tag}")
        commands.add_note(ctx, a_agent, wo.number, f"甲{n}客户备注{tag}", customer_visible=True)
        return wo.number, wo.id

    def visit(number: str, days: int) -> int:
        start = ctx.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
        new = NewVisit(engineer_id=a_engineer.id or 0, window_start=start, window_end=start + timedelta(hours=2))
        found = schedule_visit(ctx, a_agent, number, new)
        assert found.id is not None
        return found.id

    def contact(number: str, n: int) -> int:
        got = intake.receive(
            ctx,
            intake.Inbound(
                channel=Channel.EMAIL,
                email=f"wang{n}.secret.{tag}@example.cn",
                subject=f"关于 {number}",
                body=f"甲{n}客户来信{tag}",
                provider_message_id=f"<{tag}-{n}@example.cn>",
                attachments=(Attachment("photo.png", "image/png", 4, b"\x89PNG"),),
                answer=False,
            ),
        )
        assert got.work_order is not None and got.work_order.number == number and got.contact.id is not None
        return got.contact.id

    a1_number, a1_id = case(1, customer_id, "广州市越秀区东风中路88号机房三楼")
    a1_visit, a1_spare = visit(a1_number, 2), visit(a1_number, 4)
    a1_contact = contact(a1_number, 1)
    a1_hop = hops.dispatch_work_order(ctx, a_agent, a1_number, instruction=f"甲1派单说明{tag}", to_team_id=a_field)

    a2_number, a2_id = case(2, customer2_id, "广州市海珠区新港西路135号五号楼")
    a2_visit, a2_spare = visit(a2_number, 3), visit(a2_number, 5)
    a2_contact = contact(a2_number, 2)
    hq_tech = actors[("hq", Role.TECH_SUPPORT)].user
    asked = hops.dispatch_work_order(ctx, a_agent, a2_number, instruction=f"甲2请集团协查{tag}", to_team_id=hq_team)
    hops.accept_dispatch(ctx, hq_tech, asked.id or 0)
    hops.return_dispatch(ctx, hq_tech, asked.id or 0, result=f"集团答复甲2{tag}")
    a2_hop = hops.dispatch_work_order(
        ctx, a_agent, a2_number, instruction=f"甲2请厂商检测{tag}", to_team_id=vendor_team
    )

    free = intake.receive(
        ctx,
        intake.Inbound(
            channel=Channel.SMS,
            phone=phone,
            body=f"甲无工单短信{tag}",
            may_open=False,
            provider_message_id=f"free-{tag}",
        ),
    )
    assert free.work_order is None and free.contact.id is not None

    rule = routing.save_rule(
        ctx,
        a_supervisor,
        RoutingRule(
            id=None,
            name=f"甲省规则{tag}",
            position=500,
            team_id=a_field,
            conditions=Conditions(regions=(f"甲区域{tag}",)),
            organisation_id=a.id,
        ),
    )
    workspace.save_filter(ctx, a_agent, f"甲过滤{tag}", "status=open")
    with ctx.uow(write=True) as uow:  # as the worker delivers it: A's agent was mentioned on A1
        now = ctx.clock.now()
        mention = Message("inbox", "mention", now, now, {"number": a1_number}, recipient_user_id=a_agent.id)
        uow.notifications.add([replace(mention, work_order_id=a1_id)], now)
        notification_id = uow.notifications.of_user(a_agent.id or 0, NotificationFilter(), 1)[0].id
        uow.commit()
    filter_id = workspace.saved_filters(ctx, a_agent)[0].id
    with ctx.uow() as uow:
        policy_id = uow.sla.policies()[-1].id
    assert rule.id is not None and filter_id is not None and policy_id is not None

    world = World(
        kefu=k,
        hq=hq,
        a=a.id,
        b=b.id,
        vendor=v.id,
        hq_team=hq_team,
        a_reception=a_reception,
        a_field=a_field,
        b_team=b_team,
        vendor_team=vendor_team,
        actors=actors,
        a_agent=a_agent,
        a_supervisor=a_supervisor,
        a_engineer=a_engineer,
        customer_id=customer_id,
        phone=phone,
        free_contact_id=free.contact.id,
        a1=Case(a1_number, a1_id, customer_id, a1_visit, a1_spare, a1_hop.id or 0, a1_contact),
        a2=Case(a2_number, a2_id, customer2_id, a2_visit, a2_spare, a2_hop.id or 0, a2_contact),
        rule_id=rule.id,
        filter_id=filter_id,
        policy_id=policy_id,
        tag=tag,
        notification_id=notification_id,
    )
    _tags_and_files(world, a_agent, a_supervisor)
    _macros(world, a_supervisor)
    world.secrets_of_a = [
        a1_number,
        f"甲1标题{tag}",
        f"甲1描述{tag}",
        f"甲1内部备注{tag}",
        f"甲1客户备注{tag}",
        f"甲1派单说明{tag}",
        f"甲1客户来信{tag}",
        f"甲无工单短信{tag}",
        f"甲省规则{tag}",
        f"甲过滤{tag}",
        f"甲区{tag}",
        f"甲宽带服务1{tag}",
        f"甲标签1{tag}",
        a_supervisor.username,
        f"甲令牌{tag}",
        f"甲工单标签{tag}",
        f"甲宏{tag}",
        f"甲宏备注{tag}",
        f"甲1内部附件{tag}",
    ]
    world.secrets_of_a2_for_vendor = [
        f"甲2内部备注{tag}",
        f"甲2请集团协查{tag}",
        f"集团答复甲2{tag}",
        f"甲2内部附件{tag}",
    ]
    world.shown_to_vendor = [
        a2_number,
        f"甲2标题{tag}",
        f"甲2描述{tag}",
        f"甲2客户备注{tag}",
        f"甲2请厂商检测{tag}",
        f"甲2客户来信{tag}",
        f"甲宽带服务2{tag}",
        f"甲标签2{tag}",
        a_agent.username,  # registered A2
        a_engineer.username,  # visits A2's customer
        f"甲2客户附件{tag}",
    ]
    world.pii = [
        phone,
        phone2,
        "11010519491231002X",
        f"wang1.secret.{tag}",
        f"wang2.secret.{tag}",
        "天河大厦1201",
        "天河大厦2201",
        "机房三楼",
        "新港西路135号",
    ]
    return world


def _macros(world: World, a_supervisor: User) -> None:
    """A macro of A's (its name A's secret) and one the top organisation shares with everyone."""
    ctx, tag = world.kefu.ctx, world.tag
    top_admin = world.actor("hq", Role.ADMIN).user
    own = macros.save_macro(ctx, a_supervisor, Macro(None, world.a, f"甲宏{tag}", note=f"甲宏备注{tag}"))
    shared = macros.save_macro(ctx, top_admin, Macro(None, world.hq, f"总部宏{tag}", note="按总部宏处理"))
    world.macro_id, world.shared_macro_id = own.id or 0, shared.id or 0


def _tags_and_files(world: World, a_agent: User, a_supervisor: User) -> None:
    """A tag of A's list on A1; an internal file on each case, and on A2 one for the customer."""
    ctx, tag = world.kefu.ctx, world.tag
    made = tags.add_tag(ctx, a_supervisor, organisation_id=world.a, name=f"甲工单标签{tag}")
    tags.change_tags(ctx, a_agent, world.a1.number, add=[made.name])
    world.wo_tag_id = made.id or 0

    def upload(case: Case, name: str, *, shown: bool = False) -> int:
        found = attachments.upload(
            ctx, a_agent, case.number, filename=name, content_type="text/plain", content=b"x", customer_visible=shown
        )
        return found.id or 0

    world.a1.file_id = upload(world.a1, f"甲1内部附件{tag}.txt")
    upload(world.a2, f"甲2内部附件{tag}.txt")  # the vendor A2 was dispatched to never sees it
    world.a2.file_id = upload(world.a2, f"甲2客户附件{tag}.txt", shown=True)
