"""What the services need from the outside world, as protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, Protocol, Self

from kefu.domain.attachments import WorkOrderFile
from kefu.domain.audit import AuditAction, AuditEntry, AuditFilter, AuditRecord, ChainLink
from kefu.domain.calendars import CalendarSpec
from kefu.domain.categories import Category
from kefu.domain.checklists import ChecklistStep
from kefu.domain.contacts import Attachment, CallRecord, Contact, OpenCase
from kefu.domain.customers import Customer, CustomerChange, CustomerProfile
from kefu.domain.dispatch import Dispatch
from kefu.domain.events import WorkOrderEvent
from kefu.domain.macros import Macro
from kefu.domain.notifications import CopyChannel, Message, Notification, NotificationFilter, NotificationKind
from kefu.domain.org import Organisation, Role, Team, User
from kefu.domain.replies import Reply, ReplyStatus
from kefu.domain.routing import Candidate, RoutingRule
from kefu.domain.sla import ClockRecord, ServiceAgreement, SlaPolicy
from kefu.domain.tags import Tag
from kefu.domain.visits import Visit
from kefu.domain.workorders import Channel, WorkOrder


@dataclass(frozen=True)
class WorkOrderFilter:
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    category: str | None = None  # a code; matches the whole subtree
    owner_id: int | None = None
    team_id: int | None = None
    customer_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    before_id: int | None = None  # keyset cursor: only rows with a smaller id
    due_before: datetime | None = None  # a running clock falls due before this moment
    handler_id: int | None = None
    unassigned: bool = False  # nobody handles it yet (waits in its team's queue)
    dispatched_to_team: int | None = None  # a hop to this team is still waiting for its answer
    tag: str | None = None  # carries this tag
    #: Data scope: only work orders owned by or dispatched to these organisations (None: all).
    #: Set by the services from the actor, never from input.
    visible_to: frozenset[int] | None = None
    #: The order of a list: one of WORK_ORDER_SORTS ("": newest first, paged by `before_id`).
    sort: str = ""
    descending: bool = False
    #: Keyset cursor of a sorted list: the sort value and the id of the previous page's last row.
    after: tuple[str | datetime, int] | None = None


#: What a list of work orders may be sorted by (each is stable: ties are ordered by id). "due" is
#: the earliest running deadline; work orders without one come last (as if due at NO_DUE).
WORK_ORDER_SORTS = ("number", "title", "category", "type", "priority", "status", "created", "due")
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class CustomerFilter:
    phone: str | None = None
    name: str | None = None  # prefix match
    before_id: int | None = None
    #: Data scope: customers who belong to these organisations or have a work order in scope (None:
    #: all). Set by the services from the actor, never from input.
    visible_to: frozenset[int] | None = None


class TokenGrant(NamedTuple):
    """The active user a valid (unexpired, unrevoked) token belongs to, and what authentication
    needs to know about the token: when it expires, when it was last used, what it may do."""

    user: User
    expires_at: datetime
    token_id: int
    scopes: str | None  # API tokens: "read", "read write"; None: everything
    stage: str | None  # sessions: the login step still due (None: logged in)
    last_seen_at: datetime | None
    two_factor: bool  # the user has confirmed a second factor


@dataclass(frozen=True)
class Credential:
    """A page session or an API token as its owner and administrators see it: never its secret."""

    id: int
    user_id: int
    kind: str  # session | api
    name: str | None
    scopes: str | None
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    user_agent: str | None
    address: str | None


@dataclass(frozen=True)
class SecondFactor:
    user_id: int
    sealed_secret: str  # see SecretSealer
    created_at: datetime
    enabled_at: datetime | None  # None: enrolment begun, not confirmed yet
    last_step: int | None


class ContactAttachment(NamedTuple):
    contact: Contact
    attachment: Attachment


class MessageText(NamedTuple):
    """A message template's text (an admin's version or the default)."""

    subject: str | None
    body: str


class CannedText(NamedTuple):
    """A canned reply in one language (issue #12): offered for a category, or for all when None."""

    key: str
    locale: str
    category: str | None
    subject: str | None
    body: str


class StoredTemplate(NamedTuple):
    """An admin's version of a message template."""

    key: str
    channel: str
    locale: str
    subject: str | None
    body: str


class AgentLoad(NamedTuple):
    """One agent's open work against capacity, for the dashboard."""

    user_id: int
    display_name: str
    team_id: int | None
    load: int
    capacity: int
    on_shift: bool


class NumberedHop(NamedTuple):
    """A hop with its work order's number (queues show both)."""

    hop: Dispatch
    number: str


class NumberedVisit(NamedTuple):
    visit: Visit
    number: str


class IdempotentRequest(NamedTuple):
    """What an earlier request with the same Idempotency-Key sent and created."""

    request_hash: str
    work_order_id: int


class BreachedClock(NamedTuple):
    number: str
    clock: ClockRecord


@dataclass(frozen=True)
class RecordedChange:
    """One correction in a customer's history: who, when, what (masked), why."""

    actor_id: int
    at: datetime
    change: CustomerChange
    reason: str | None


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> Customer: ...
    def save(self, customer: Customer) -> None: ...
    def lock(self, customer_id: int) -> None: ...
    def add_changes(
        self, customer_id: int, changes: list[CustomerChange], *, actor_id: int, at: datetime, reason: str | None
    ) -> None: ...
    def changes_of(self, customer_id: int, limit: int) -> list[RecordedChange]: ...
    def move_contacts(self, from_id: int, to_id: int) -> int: ...
    def get(self, customer_id: int, *, visible_to: frozenset[int] | None = None) -> Customer | None:
        """The customer; with `visible_to`, only if in that data scope (see CustomerFilter)."""
        ...

    def profile_of(self, customer_id: int, day: date) -> CustomerProfile | None:
        """Tier, region and the service agreement in force on `day`; None if there is no such customer.
        Cheap: what registering a work order needs, without the customer's JSON columns."""
        ...

    def get_many(self, ids: list[int]) -> dict[int, Customer]: ...
    def search(self, flt: CustomerFilter, limit: int) -> list[Customer]: ...
    def stale_id_numbers(self) -> int:
        """How many stored ID numbers are in clear or encrypted with an older key."""
        ...

    def reencrypt_id_numbers(self, after_id: int, limit: int) -> tuple[int, int | None]:
        """Encrypt with the newest key up to `limit` such ID numbers of customers after `after_id`:
        (how many, the last customer id looked at; None when there are no more)."""
        ...


class WorkOrderRepository(Protocol):
    def add(self, work_order: WorkOrder, *, day: date) -> WorkOrder:
        """Store a new work order with its events; give it an id and, if it has none, the next
        number of `day` (its registration day in the centre's timezone)."""
        ...

    def get_by_number(self, number: str, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None:
        """The work order with this number; with `visible_to`, only if owned by or dispatched to one
        of these organisations (data scope)."""
        ...

    def get_by_id(self, work_order_id: int, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None: ...
    def get_many_by_id(self, ids: list[int], *, visible_to: frozenset[int] | None = None) -> dict[int, WorkOrder]: ...
    def append_events(self, work_order: WorkOrder) -> None:
        """Store pending events that change no field of the work order (its version stays)."""
        ...

    def save(self, work_order: WorkOrder, expected_version: int) -> bool:
        """Store changes and pending events; False when the version no longer matches."""
        ...

    def find(self, flt: WorkOrderFilter, limit: int) -> list[WorkOrder]: ...
    def history(self, work_order_id: int) -> list[WorkOrderEvent]: ...
    def set_next_due(self, work_order_id: int, due: datetime | None) -> None: ...


class UserRepository(Protocol):
    def add(self, user: User) -> User: ...
    def get(self, user_id: int) -> User | None: ...
    def get_by_username(self, username: str) -> User | None: ...
    def get_many(self, ids: list[int]) -> dict[int, User]: ...
    def find(
        self,
        *,
        roles: tuple[Role, ...],
        team_id: int | None = None,
        organisation_id: int | None = None,
        organisation_ids: frozenset[int] | None = None,
        include_inactive: bool = False,
    ) -> list[User]:
        """Users with one of these roles (active ones unless `include_inactive`), in a team or (one
        of) the organisations if given."""
        ...

    def update_profile(self, user: User) -> None:
        """Store role, organisation, team, name, active, and the dispatch profile."""
        ...

    def set_password(self, user_id: int, password_hash: str, *, at: datetime, must_change: bool) -> None: ...
    def set_must_change_password(self, user_id: int, must_change: bool) -> None: ...
    def candidates(self, team_id: int, roles: tuple[Role, ...]) -> list[Candidate]: ...
    def hold_capacity(self, user_id: int) -> bool:
        """Lock the user for this transaction; True if on shift with room for one more work order."""
        ...

    def fold_load_changes(self, limit: int = 10_000) -> int:
        """Fold the appended open-load changes into the users' counters (housekeeping)."""
        ...


class TokenRepository(Protocol):
    """Page sessions and API tokens, stored by the SHA-256 of their secret."""

    def add(
        self,
        *,
        user_id: int,
        token_hash: str,
        kind: str,
        label: str | None,
        at: datetime,
        expires_at: datetime,
        scopes: str | None = None,
        stage: str | None = None,
        user_agent: str | None = None,
        address: str | None = None,
    ) -> int: ...
    def user_for(self, token_hash: str, kind: str, now: datetime) -> TokenGrant | None:
        """The active user of a valid token (unexpired, unrevoked), with what is known of the token."""
        ...

    def get(self, token_id: int, now: datetime) -> Credential | None:
        """A token that is neither revoked nor expired."""
        ...

    def of_users(self, user_ids: list[int] | None, kind: str, *, valid_after: datetime) -> list[Credential]:
        """Unrevoked tokens of these users (None: everyone's) expiring after `valid_after`, newest first."""
        ...

    def touch(self, token_id: int, at: datetime) -> None: ...
    def set_stage(self, token_id: int, stage: str | None, *, expires_at: datetime) -> None: ...
    def count_failed_code(self, token_id: int) -> int:
        """One more wrong code typed at this session's login step; returns how many so far."""
        ...

    def revoke(self, token_hash: str, at: datetime) -> None: ...
    def revoke_of_user(
        self, user_id: int, kind: str, at: datetime, *, ids: list[int] | None = None, keep: int | None = None
    ) -> list[str]:
        """Revoke the user's valid tokens of this kind (only `ids` if given, all but `keep` if given);
        returns their hashes."""
        ...


class SecondFactorRepository(Protocol):
    """TOTP secrets (sealed) and recovery codes (hashed)."""

    def get(self, user_id: int) -> SecondFactor | None: ...
    def begin(self, user_id: int, sealed_secret: str, at: datetime) -> None:
        """Replace the user's factor with a new, unconfirmed one."""
        ...

    def enable(self, user_id: int, at: datetime) -> None: ...
    def claim_step(self, user_id: int, step: int) -> bool:
        """Record `step` as the last accepted one if it is later than that; False: already used."""
        ...

    def remove(self, user_id: int) -> bool:
        """Remove the factor and the recovery codes; False if there was none."""
        ...

    def replace_recovery_codes(self, user_id: int, code_hashes: list[str], at: datetime) -> None: ...
    def use_recovery_code(self, user_id: int, code_hash: str, at: datetime) -> bool: ...
    def recovery_codes_left(self, user_id: int) -> int: ...


class PasswordResetRepository(Protocol):
    def add(self, *, user_id: int, code_hash: str, created_by: int | None, at: datetime, expires_at: datetime) -> None:
        """A new reset code; older unused codes of the user stop working."""
        ...

    def user_of(self, code_hash: str, now: datetime) -> int | None:
        """The user of a valid, unused code."""
        ...

    def redeem(self, code_hash: str, now: datetime) -> int | None:
        """Use the code if it is valid and unused; returns its user's id."""
        ...


class CategoryRepository(Protocol):
    def get(self, code: str) -> Category | None: ...
    def all(self) -> list[Category]: ...
    def add(self, category: Category) -> None: ...
    def set_active(self, code: str, active: bool) -> None: ...


class OrgRepository(Protocol):
    def add_organisation(self, org: Organisation) -> Organisation: ...
    def add_team(self, team: Team) -> Team: ...
    def organisations(self) -> list[Organisation]: ...
    def teams(self) -> list[Team]: ...
    def get_team(self, team_id: int) -> Team | None: ...
    def get_organisation(self, organisation_id: int) -> Organisation | None: ...


@dataclass(frozen=True)
class CodeRecord:
    id: int | None
    work_order_id: int
    phone: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0


@dataclass(frozen=True)
class SavedFilter:
    id: int | None
    user_id: int
    name: str
    query: str


@dataclass
class LoginFailures:
    """Failed logins counted for an account (by the username typed, known or not) or for an address."""

    scope: str  # "account" or "address"
    key: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


class LockoutRepository(Protocol):
    def get(self, scope: str, key: str) -> LoginFailures | None: ...
    def put(self, record: LoginFailures) -> None: ...
    def clear(self, scope: str, key: str) -> bool: ...
    def locked(self, now: datetime, limit: int) -> list[LoginFailures]:
        """The accounts and addresses locked at `now`, the latest lock first."""
        ...


class WorkspaceRepository(Protocol):
    def count(self, flt: WorkOrderFilter, cap: int) -> int: ...
    def oldest(self, flt: WorkOrderFilter) -> datetime | None: ...
    def filters(self, user_id: int) -> list[SavedFilter]: ...
    def save_filter(self, user_id: int, name: str, query: str, at: datetime) -> None: ...
    def delete_filter(self, user_id: int, filter_id: int) -> bool: ...
    def open_by(self, column: str, visible_to: frozenset[int] | None) -> dict[Any, int]: ...
    def created_by(
        self, column: str, start: datetime, end: datetime, visible_to: frozenset[int] | None
    ) -> dict[Any, int]: ...
    def breaches_between(self, start: datetime, end: datetime, visible_to: frozenset[int] | None) -> int: ...
    def agents_load(self, team_ids: list[int] | None) -> list[AgentLoad]: ...


class TagRepository(Protocol):
    def of_organisations(self, organisation_ids: list[int] | None, *, include_inactive: bool = False) -> list[Tag]:
        """The tags of these organisations' lists (None: of every organisation), by name."""
        ...

    def get(self, tag_id: int) -> Tag | None: ...
    def add(self, tag: Tag) -> Tag: ...
    def set_active(self, tag_id: int, active: bool) -> None: ...
    def free_tags(self) -> dict[int, bool]:
        """The organisations with a free-tags setting, and the setting."""
        ...

    def set_free_tags(self, organisation_id: int, allowed: bool) -> None: ...
    def of_work_order(self, work_order_id: int) -> list[str]: ...
    def of_work_orders(self, work_order_ids: list[int]) -> dict[int, list[str]]: ...
    def add_to(self, work_order_id: int, tags: list[str], *, actor_id: int, at: datetime) -> None: ...
    def remove_from(self, work_order_id: int, tags: list[str]) -> None: ...


class FileRepository(Protocol):
    def add(self, file: WorkOrderFile, content: bytes) -> WorkOrderFile: ...
    def of_work_order(self, work_order_id: int) -> list[WorkOrderFile]:
        """Without their contents, oldest first."""
        ...

    def get(self, file_id: int) -> WorkOrderFile | None:
        """With its contents."""
        ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None:
        """Record an entry: chained and written when the unit of work commits, so it is kept
        exactly when the use case's other changes are."""
        ...

    def hold_chain(self) -> None:
        """Wait for the chain's head and hold it until the transaction ends (one sealer at a time)."""
        ...

    def find(self, flt: AuditFilter, limit: int) -> list[AuditRecord]:
        """Newest first."""
        ...

    def last(self, action: AuditAction) -> AuditRecord | None: ...
    def sizes(self) -> int:
        """Audit rows and work-order events together (what a verification walks)."""
        ...

    def chain(self, after_seq: int, limit: int) -> list[tuple[AuditRecord, ChainLink]]:
        """Audit rows after `after_seq`, in chain order, each with what its hash covers."""
        ...

    def event_counts(self, after_work_order_id: int, limit: int) -> list[tuple[int, int]]:
        """(work-order id, how many events it records), in id order."""
        ...

    def event_links(self, first_work_order_id: int, last_work_order_id: int) -> Iterator[tuple[int, ChainLink]]:
        """(work-order id, link) of the events of these work orders, by work order and seq."""
        ...

    def events_outside(self, known_last_work_order_id: int) -> int | None:
        """An event whose work order lies beyond `known_last_work_order_id`, if there is one."""
        ...

    def event_hashes(self, from_id: int, through_id: int) -> Iterator[tuple[int, str]]:
        """(id, hash) of the events with from_id < id <= through_id, in id order."""
        ...

    def event_horizon(self) -> tuple[int, int | None]:
        """(the highest event id, a marker that `horizon_passed` checks before a seal may end there)."""
        ...

    def horizon_passed(self, marker: int | None) -> bool:
        """True once no transaction that could still add an event below the horizon is running."""
        ...


class ChannelRepository(Protocol):
    def add_contact(self, contact: Contact) -> bool:
        """Store a contact; False when the provider already delivered this message (nothing stored)."""
        ...

    def contact_by_provider_id(self, channel: Channel, provider_message_id: str) -> Contact | None: ...
    def attachment(self, contact_id: int, position: int) -> ContactAttachment | None: ...
    def update_contact(self, contact: Contact) -> None: ...
    def link_contact(self, contact_id: int, work_order_id: int, customer_id: int) -> None: ...
    def contacts_of(self, customer_id: int, limit: int) -> list[Contact]: ...
    def contacts_of_work_order(self, work_order_id: int) -> list[Contact]: ...
    def open_cases(self, customer_id: int) -> list[OpenCase]: ...
    def find_customer_id(
        self, *, phone: str | None, email: str | None, wechat_openid: str | None, account_number: str | None
    ) -> int | None: ...
    def set_customer_keys(self, customer_id: int, *, email: str | None, wechat_openid: str | None) -> None: ...
    def call(self, call_id: str, *, lock: bool = False) -> CallRecord | None: ...
    def save_call(self, call: CallRecord) -> CallRecord: ...
    def recent_calls(self, caller: str, limit: int) -> list[CallRecord]: ...
    def template(self, key: str, channel: str, locale: str) -> MessageText | None: ...
    def templates(self) -> list[StoredTemplate]: ...
    def save_template(
        self, key: str, channel: str, locale: str, subject: str | None, body: str, *, actor_id: int, at: datetime
    ) -> None: ...
    def add_code(self, code: CodeRecord) -> None: ...
    def latest_code(self, work_order_id: int, now: datetime) -> CodeRecord | None: ...
    def codes_since(self, work_order_id: int, since: datetime) -> int: ...
    def count_attempt(self, code_id: int, *, used_at: datetime | None) -> None: ...


class DispatchRepository(Protocol):
    def add(self, hop: Dispatch) -> Dispatch:
        """Store a new hop; the receiving organisation becomes a party that may see the work order."""
        ...

    def get(self, dispatch_id: int) -> Dispatch | None: ...
    def save(self, hop: Dispatch, expected_version: int) -> bool: ...
    def of_work_order(self, work_order_id: int) -> list[Dispatch]: ...
    def waiting_for(
        self, *, team_id: int | None = None, organisation_id: int | None = None, limit: int = 200
    ) -> list[NumberedHop]: ...


class VisitRepository(Protocol):
    def add(self, visit: Visit) -> Visit: ...
    def get(self, visit_id: int) -> Visit | None: ...
    def save(self, visit: Visit, expected_version: int) -> bool: ...
    def of_work_order(self, work_order_id: int) -> list[Visit]: ...
    def of_engineers(
        self, engineer_ids: list[int], start: datetime, end: datetime, *, include_done: bool = True
    ) -> list[NumberedVisit]: ...


class ChecklistRepository(Protocol):
    def steps(self, work_order_id: int) -> list[ChecklistStep]: ...
    def add(self, work_order_id: int, steps: list[ChecklistStep]) -> None: ...
    def save(self, work_order_id: int, step: ChecklistStep) -> None: ...


class RoutingRepository(Protocol):
    def rules(self) -> list[RoutingRule]: ...
    def save_rule(self, rule: RoutingRule, *, actor_id: int, at: datetime) -> RoutingRule: ...
    def exists(self, rule_id: int) -> bool: ...
    def name_taken(self, name: str, other_than: int | None) -> bool: ...
    def last_assigned(self, team_id: int) -> int | None: ...
    def set_last_assigned(self, team_id: int, user_id: int) -> None: ...


class MacroRepository(Protocol):
    def of_organisations(self, organisation_ids: frozenset[int] | None) -> list[Macro]: ...
    def get(self, macro_id: int) -> Macro | None: ...
    def name_taken(self, organisation_id: int, name: str, other_than: int | None) -> bool: ...
    def save(self, macro: Macro, *, actor_id: int, at: datetime) -> Macro: ...


class IdempotencyRepository(Protocol):
    def get(self, user_id: int, key: str) -> IdempotentRequest | None:
        """(request hash, work-order id) stored for this key, if any."""
        ...

    def claim(self, *, user_id: int, key: str, request_hash: str, work_order_id: int, at: datetime) -> bool:
        """Store the key for this work order; False when an earlier request holds it already
        (the caller then rolls back and answers with that request's work order)."""
        ...


class SlaRepository(Protocol):
    def calendars(self) -> list[CalendarSpec]: ...
    def add_calendar(self, spec: CalendarSpec) -> CalendarSpec: ...
    def set_calendar_day(self, calendar: str, day: date, is_workday: bool, note: str | None) -> bool:
        """False when there is no such calendar."""
        ...

    def policies(self) -> list[SlaPolicy]: ...
    def save_policy(self, policy: SlaPolicy) -> SlaPolicy: ...
    def agreement(self, agreement_id: int) -> ServiceAgreement | None: ...
    def agreements_of(self, customer_id: int) -> list[ServiceAgreement]: ...
    def add_agreement(self, agreement: ServiceAgreement) -> ServiceAgreement: ...
    def clocks(self, work_order_id: int, *, lock: bool = False) -> list[ClockRecord]: ...
    def add_clocks(self, records: list[ClockRecord]) -> None: ...
    def save_clocks(self, records: list[ClockRecord]) -> None: ...
    def claim_due(self, now: datetime, limit: int) -> list[ClockRecord]:
        """Clocks with something to fire by `now`, locked for this transaction; rows another
        worker holds are skipped, so no firing happens twice."""
        ...

    def breached_between(self, customer_id: int, start: datetime, end: datetime) -> list[BreachedClock]:
        """(work-order number, clock) for the customer's clocks breached in [start, end)."""
        ...


class OutboxRepository(Protocol):
    def add(self, messages: list[Message]) -> None: ...
    def add_one(self, message: Message) -> int:
        """Queue one message; its outbox id."""
        ...

    def claim_due(self, now: datetime, limit: int) -> list[Message]: ...
    def mark_sent(self, ids: list[int], at: datetime) -> None: ...
    def mark_failed(self, message_id: int, *, error: str, retry_at: datetime | None) -> None: ...


class NotificationRepository(Protocol):
    def add(self, messages: list[Message], at: datetime) -> None:
        """Deliver in-app messages (from the outbox) to their recipients' inboxes."""
        ...

    def of_user(self, user_id: int, flt: NotificationFilter, limit: int) -> list[Notification]:
        """The user's notifications, newest first."""
        ...

    def unread_count(self, user_id: int) -> int: ...
    def mark_read(self, user_id: int, notification_id: int, at: datetime) -> Notification | None:
        """None: the user has no notification with this id (another user's is not theirs)."""
        ...

    def mark_all_read(self, user_id: int, at: datetime) -> int: ...
    def preferences(self, user_ids: list[int]) -> dict[int, set[tuple[NotificationKind, CopyChannel]]]: ...
    def set_preferences(self, user_id: int, chosen: set[tuple[NotificationKind, CopyChannel]]) -> None: ...
    def set_addresses(self, user_id: int, *, email: str | None, phone: str | None) -> None: ...


class SearchHit(NamedTuple):
    work_order_id: int
    score: float  # higher is better


class SearchRepository(Protocol):
    """The full-text index of work orders (kefu.adapters.db.search_repository). The repositories
    that store text keep it in step; a use case that stores another kind of text calls `put`."""

    def put(self, work_order_id: int, kind: str, ref: str, text_: str, *, field: str = "more") -> None:
        """Store or replace one piece of a work order's text (`field`: "more" for what every reader
        of the work order may see, "internal" for what vendors and partners may not)."""
        ...

    def remove(self, work_order_id: int, kind: str, ref: str) -> None: ...
    def index_customer(self, customer_id: int) -> None:
        """After a customer's name or phone changed."""
        ...

    def reindex(self, after_id: int, limit: int) -> tuple[int, int | None]:
        """Index again up to `limit` work orders after `after_id`: how many, and the last id done
        (None when there were none left)."""
        ...

    def find(self, q: str, flt: WorkOrderFilter, *, internal: bool, limit: int, offset: int) -> list[SearchHit]:
        """Work orders with every word of `q` (segmented), within the filter (and its data scope),
        best first; `internal`: internal notes count too."""
        ...


class ReplyRepository(Protocol):
    def add(self, reply: Reply) -> Reply: ...
    def set_outbox(self, reply_id: int, outbox_id: int) -> None: ...
    def set_message_id(self, reply_id: int, message_id: str) -> None: ...
    def of_work_order(self, work_order_id: int) -> list[ReplyStatus]: ...
    def of_customer(self, customer_id: int, limit: int) -> list[ReplyStatus]: ...
    def work_order_of_message(self, outbox_id: int) -> int | None: ...
    def canned(self) -> list[CannedText]: ...
    def save_canned(self, text: CannedText, *, actor_id: int, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    # Read-only members, so an adapter may hold its own repository classes.
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def work_orders(self) -> WorkOrderRepository: ...
    @property
    def search(self) -> SearchRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def second_factors(self) -> SecondFactorRepository: ...
    @property
    def password_resets(self) -> PasswordResetRepository: ...
    @property
    def categories(self) -> CategoryRepository: ...
    @property
    def org(self) -> OrgRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def sla(self) -> SlaRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def dispatches(self) -> DispatchRepository: ...
    @property
    def visits(self) -> VisitRepository: ...
    @property
    def checklists(self) -> ChecklistRepository: ...
    @property
    def routing(self) -> RoutingRepository: ...
    @property
    def macros(self) -> MacroRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def workspace(self) -> WorkspaceRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def lockouts(self) -> LockoutRepository: ...
    @property
    def tags(self) -> TagRepository: ...
    @property
    def files(self) -> FileRepository: ...
    @property
    def replies(self) -> ReplyRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """A message to a customer, ready for a channel adapter."""

    message_id: str  # stable per outbox row: providers that keep ids drop a repeated delivery
    channel: str
    address: str
    subject: str | None
    body: str
    work_order_number: str | None = None
    #: E-mail threading: the customer's message this answers, and the conversation's earlier ids.
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


class SecretSealer(Protocol):
    """Encrypts small secrets kept in the database (TOTP secrets) with a key the database does not
    hold; `bound_to` ties a sealed value to its row, so it cannot be copied onto another."""

    def seal(self, plaintext: str, *, bound_to: str) -> str: ...
    def open(self, sealed: str, *, bound_to: str) -> str:
        """The plaintext; raises ValueError if the value was changed, moved or sealed with another key."""
        ...


class SendFailed(Exception):
    """The provider refused or could not be reached; the outbox tries again later."""


class Sender(Protocol):
    def send(self, message: Outgoing) -> str | None:
        """Hand the message to the provider; its id for the message, if it gives one. Raises SendFailed."""
        ...


class CodeHasher(Protocol):
    def digest(self, value: str) -> str:
        """A keyed hash (its key is not in the database) of a one-time code, for storing it."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password: str, password_hash: str) -> bool: ...


class RateLimiter(Protocol):
    """Counts hits per key in a sliding window, shared by every process that shares its storage
    (kefu.adapters.ratelimits: Redis, the database or this process's memory)."""

    def hit(self, name: str, amount: int, seconds: int, key: str) -> float | None:
        """One more hit of `key` under the limit `name` (`amount` per `seconds`): None when it is
        within the limit, else the seconds until one more would be."""
        ...

    def first(self, name: str, key: str, seconds: int) -> bool:
        """True only the first time `key` is seen under `name` for `seconds` (set if absent, with
        that expiry); False when the storage cannot tell (a replay check fails closed)."""
        ...
