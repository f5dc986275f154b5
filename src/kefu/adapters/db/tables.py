"""Table definitions (SQLAlchemy Core). The schema itself is created by Alembic migrations.

The whole schema stays in this one file, the one module of adapters/db allowed past ~400 lines: the
tables refer to each other, and one place shows all of them next to their indexes. The repositories
(one module each) import the tables they use from here."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from kefu.adapters.db.types import BigId, Json, UTCDateTime
from kefu.domain.workorders import OPEN_STATUS_VALUES

#: The SQL for "the work order is open", written exactly as the repositories filter on it (sorted),
#: so the planner matches it against the partial indexes below.
OPEN_PREDICATE = "status IN ({})".format(", ".join(f"'{value}'" for value in OPEN_STATUS_VALUES))

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("parent_id", BigId, ForeignKey("organisations.id")),
    Column("region", String(100)),
)

teams = Table(
    "teams",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("function", String(20), nullable=False),
    Index(None, "organisation_id", "name", unique=True),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("organisation_id", BigId, ForeignKey("organisations.id")),
    Column("team_id", BigId, ForeignKey("teams.id")),
    Column("region", String(100)),
    Column("skills", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Dispatch: languages/dialects spoken, max open work orders, on shift now, and the open work
    # orders handled now: this counter plus the user's rows in load_changes (see there).
    Column("languages", Json, nullable=False, server_default=text("'[]'")),
    Column("capacity", Integer, nullable=False, server_default=text("20")),
    Column("on_shift", Boolean, nullable=False, server_default=text("true")),
    Column("open_assigned", Integer, nullable=False, server_default=text("0")),
    # Accounts (R32): an administrator may ask for a new password at the next login.
    Column("must_change_password", Boolean, nullable=False, server_default=text("false")),
    Column("password_changed_at", UTCDateTime),
    # Where notifications may also reach the user (staff notifications by e-mail or SMS); masked in reads.
    Column("email", String(200)),
    Column("phone", String(32)),
    Index(None, "team_id", "open_assigned"),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # api | session
    Column("label", String(100)),  # an API token's name
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # API tokens: what they may do ("read", "read write"; NULL: everything, as before scopes).
    Column("scopes", String(50)),
    # Sessions: the step of the login still due (second factor, enrolment, new password; NULL: none),
    # the wrong codes typed at it, and the browser and address it was opened from.
    Column("stage", String(20)),
    Column("failed_codes", SmallInteger, nullable=False, server_default=text("0")),
    Column("user_agent", String(300)),
    Column("address", String(64)),
    Column("last_seen_at", UTCDateTime),  # both kinds; refreshed at most once a minute
    Index(None, "user_id", "kind"),
)

second_factors = Table(
    "second_factors",
    metadata,
    # TOTP (RFC 6238). The secret is sealed with a key derived from KEFU_SECRET_KEY
    # (kefu.adapters.sealing), so a dump of the database alone does not reveal it.
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("secret", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enabled_at", UTCDateTime),  # NULL: enrolment begun, not confirmed with a first code
    Column("last_step", BigInteger),  # the time step of the last code accepted: no code counts twice
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    # Single-use codes for a lost authenticator, shown once, stored as SHA-256 (80 random bits each).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

password_resets = Table(
    "password_resets",
    metadata,
    # One-time codes an administrator hands to a user to set a new password (stored as SHA-256).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_by", BigId, ForeignKey("users.id")),  # NULL: the command line
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),  # redeemed, or replaced by a newer code
)

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(20)),  # None: known only by e-mail or WeChat so far
    Column("tier", String(10), nullable=False),
    Column("brand", String(50)),
    Column("region", String(100)),
    Column("email", String(200)),
    Column("address", String(300)),
    # Encrypted at rest (kefu.adapters.data_protection): "enc1:<key id>:<base64>"; a value stored before
    # encryption stays readable until `kefu keys rotate` encrypts it.
    Column("id_number", String(120)),
    Column("services", Json, nullable=False),
    Column("devices", Json, nullable=False),
    Column("tags", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Both are searched by prefix (LIKE 'x%'): text_pattern_ops lets PostgreSQL use the index.
    Column("wechat_openid", String(64)),
    Column("account_number", String(32)),
    # The organisation the customer belongs to (归属): its subtree sees the customer (data scope).
    Column("organisation_id", BigId, ForeignKey("organisations.id")),
    # A duplicate merged into another record (an SMS-born "新客户" into the caller's real one): kept,
    # so history and links stay; its phone, e-mail and openid now find the record it was merged into.
    Column("merged_into_id", BigId, ForeignKey("customers.id")),
    Index(None, "phone", postgresql_ops={"phone": "text_pattern_ops"}),
    Index(None, "name", postgresql_ops={"name": "text_pattern_ops"}),
    Index(None, "email"),
    Index(None, "wechat_openid"),
    Index(None, "account_number"),
    Index(None, "organisation_id", "id"),
)

#: The customer's history of corrections (R6, R30): who changed which field from what to what;
#: personal data (phone, e-mail, address, ID number) is kept masked here.
customer_changes = Table(
    "customer_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("actor_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("field", String(40), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("reason", String(1000)),
    Index(None, "customer_id", "id"),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("label_zh", String(100), nullable=False),
    Column("label_en", String(100), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("sort", Integer, nullable=False, server_default=text("0")),
)

work_order_sequences = Table(
    "work_order_sequences",
    metadata,
    Column("day", Date, primary_key=True),
    Column("last_value", Integer, nullable=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(16), nullable=False, unique=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("type", String(20), nullable=False),
    Column("category", String(100), ForeignKey("categories.code"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("priority", String(2), nullable=False),
    Column("severity", SmallInteger),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("handler_id", BigId, ForeignKey("users.id")),
    Column("team_id", BigId, ForeignKey("teams.id")),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("fault_time", UTCDateTime),
    Column("fault_place", String(300)),
    Column("device", String(200)),
    Column("promised_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("reopen_count", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # The organisation of the first-ask owner: with work_order_parties it decides who may see it.
    Column("organisation_id", BigId, ForeignKey("organisations.id")),
    # The earliest deadline of its running clocks, kept with every change: "due within the hour"
    # is then one index range on open work orders, not a search through their clocks.
    Column("next_due_at", UTCDateTime),
    # How many events its chain holds (kefu.domain.audit): deleting its last events, or all of them,
    # leaves fewer than this.
    Column("event_seq", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("severity IS NULL OR severity BETWEEN 1 AND 4", name="severity_range"),
    # Keyset pagination walks (filter, id DESC): each common filter has its own index.
    Index(None, "status", "id"),
    Index(None, "customer_id", "id"),
    Index(None, "owner_id", "id"),
    Index(None, "team_id", "id"),
    Index(None, "handler_id", "id"),
    Index(None, "organisation_id", "id"),
    Index(None, "category", "id"),
    Index(None, "created_at"),
    # Open work orders are a small, hot part of the table: partial indexes keep "open + priority"
    # and "open + category" fast even where matches are rare, and stay small as orders close.
    Index(
        "ix_work_orders_open_priority_id",
        "priority",
        "id",
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
    Index(
        "ix_work_orders_open_category_id",
        "category",
        "id",
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
    Index(
        "ix_work_orders_open_next_due_at",
        "next_due_at",
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
    # The team queues: a team's open work, newest first.
    Index(
        "ix_work_orders_open_team_id_id",
        "team_id",
        "id",
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
    # The dashboard's counts of open work by status and team, per organisation, from the index alone.
    Index(
        "ix_work_orders_open_organisation_id_status_team_id",
        "organisation_id",
        "status",
        "team_id",
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
)

work_order_events = Table(
    "work_order_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("actor_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20)),
    Column("note", Text),
    Column("visibility", String(10)),
    Column("data", Json, nullable=False),
    # Each work order's events are a hash chain (kefu.domain.audit): seq 1, 2, ... within the work
    # order, the previous event's hash, and the hash over this one's contents and that.
    Column("seq", Integer, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "work_order_id", "seq", unique=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- time limits (SLA) ---------------------------------------------------------------------------

business_calendars = Table(
    "business_calendars",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("hours", Json, nullable=False),  # [["08:30", "12:00"], ...]; [] = 24x7
    Column("chinese_holidays", Boolean, nullable=False, server_default=text("true")),
)

calendar_days = Table(
    "calendar_days",
    metadata,
    Column("calendar_id", BigId, ForeignKey("business_calendars.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("is_workday", Boolean, nullable=False),
    Column("note", String(200)),
)

sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("calendar", String(100), ForeignKey("business_calendars.name"), nullable=False),
    Column("conditions", Json, nullable=False),
    Column("targets", Json, nullable=False),
    Column("warn_at", Json, nullable=False),
    Column("escalations", Json, nullable=False),
)

service_agreements = Table(
    "service_agreements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("targets", Json, nullable=False),  # minutes per clock, overriding the policy
    Column("calendar", String(100), ForeignKey("business_calendars.name")),
    Column("compensation_fen_per_hour", BigInteger, nullable=False, server_default=text("0")),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
)

work_order_clocks = Table(
    "work_order_clocks",
    metadata,
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("name", String(20), primary_key=True),
    Column("policy_id", BigId, ForeignKey("sla_policies.id")),
    Column("agreement_id", BigId, ForeignKey("service_agreements.id")),
    Column("calendar", String(100), nullable=False),
    Column("target_minutes", Integer, nullable=False),
    Column("phase", String(10), nullable=False),
    Column("elapsed_us", BigInteger, nullable=False),  # working time used before running_since
    Column("running_since", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("stopped_at", UTCDateTime),
    Column("fired", SmallInteger, nullable=False, server_default=text("0")),
    Column("laps", Integer, nullable=False, server_default=text("0")),
    Column("due_at", UTCDateTime),
    Column("breached_at", UTCDateTime),
    Column("next_fire_at", UTCDateTime),
    # The worker's queue: only what still has something to fire, in time order.
    Index(
        "ix_work_order_clocks_next_fire_at",
        "next_fire_at",
        postgresql_where=text("next_fire_at IS NOT NULL"),
        sqlite_where=text("next_fire_at IS NOT NULL"),
    ),
    Index(
        "ix_work_order_clocks_running_due_at",
        "due_at",
        postgresql_where=text("phase = 'running'"),
        sqlite_where=text("phase = 'running'"),
    ),
    # Time limits missed in a period (the dashboard): only the breached clocks.
    Index(
        "ix_work_order_clocks_breached_at",
        "breached_at",
        postgresql_where=text("breached_at IS NOT NULL"),
        sqlite_where=text("breached_at IS NOT NULL"),
    ),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deliver_after", UTCDateTime, nullable=False),
    Column("channel", String(20), nullable=False),  # inbox (in-app) now; sms, email, wechat later
    Column("recipient_user_id", BigId, ForeignKey("users.id")),
    Column("recipient", String(200)),
    Column("work_order_id", BigId, ForeignKey("work_orders.id")),
    Column("template", String(100), nullable=False),
    Column("payload", Json, nullable=False),
    Column("urgent", Boolean, nullable=False, server_default=text("false")),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Index(
        "ix_outbox_pending",
        "deliver_after",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("work_order_id", BigId, ForeignKey("work_orders.id")),
    Column("template", String(100), nullable=False),
    Column("payload", Json, nullable=False),
    Column("read_at", UTCDateTime),
    Index(None, "user_id", "id"),
    # The bell's unread count on every page.
    Index(
        "ix_notifications_unread",
        "user_id",
        postgresql_where=text("read_at IS NULL"),
        sqlite_where=text("read_at IS NULL"),
    ),
)

#: Which kinds of notification also go to a user by e-mail or SMS (a row per kind and channel chosen).
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("channel", String(10), primary_key=True),
)


# --- dispatch, field service, service-request checklists -----------------------------------------

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("conditions", Json, nullable=False),
    Column("team_id", BigId, ForeignKey("teams.id"), nullable=False),
    Column("strategy", String(20), nullable=False),
    Column("fallback_team_id", BigId, ForeignKey("teams.id")),
    # Whose work orders it routes (that organisation's subtree); NULL: every organisation's.
    Column("organisation_id", BigId, ForeignKey("organisations.id")),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", BigId, ForeignKey("users.id"), nullable=False),
)

macros = Table(
    "macros",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Kept by that organisation's supervisors and admins; applied by its staff and those below it.
    Column("organisation_id", BigId, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("actions", Json, nullable=False),  # kefu.domain.macros.Macro.as_data
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", BigId, ForeignKey("users.id"), nullable=False),
    UniqueConstraint("organisation_id", "name"),
)

routing_cursors = Table(
    "routing_cursors",
    metadata,
    Column("team_id", BigId, ForeignKey("teams.id"), primary_key=True),
    Column("last_user_id", BigId, ForeignKey("users.id"), nullable=False),
)

#: Hops still waiting for an answer, as the queues ask for them.
ACTIVE_HOP = "status IN ('accepted', 'pending')"

dispatches = Table(
    "dispatches",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("parent_id", BigId, ForeignKey("dispatches.id")),
    Column("sender_user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("sender_org_id", BigId, ForeignKey("organisations.id"), nullable=False),
    Column("sender_team_id", BigId, ForeignKey("teams.id")),
    Column("receiver_org_id", BigId, ForeignKey("organisations.id"), nullable=False),
    Column("receiver_team_id", BigId, ForeignKey("teams.id")),
    Column("instruction", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime),
    Column("accepted_at", UTCDateTime),
    Column("accepted_by", BigId, ForeignKey("users.id")),
    Column("answered_at", UTCDateTime),
    Column("answered_by", BigId, ForeignKey("users.id")),
    Column("answer", Text),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index(None, "work_order_id", "id"),
    Index(
        "ix_dispatches_active_team",
        "receiver_team_id",
        "deadline_at",
        postgresql_where=text(ACTIVE_HOP),
        sqlite_where=text(ACTIVE_HOP),
    ),
    Index(
        "ix_dispatches_active_org",
        "receiver_org_id",
        "deadline_at",
        postgresql_where=text(ACTIVE_HOP),
        sqlite_where=text(ACTIVE_HOP),
    ),
)

work_order_parties = Table(
    "work_order_parties",
    metadata,
    # Every organisation a work order was dispatched to: they may see it (data scope).
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id"), primary_key=True),
    Index(None, "organisation_id", "work_order_id"),
)

visits = Table(
    "visits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("engineer_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("status", String(12), nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("window_end", UTCDateTime, nullable=False),
    Column("address", String(300), nullable=False),
    Column("tools", Json, nullable=False),
    Column("parts", Json, nullable=False),
    Column("checked_in_at", UTCDateTime),
    Column("checked_out_at", UTCDateTime),
    Column("diagnosis", Text),
    Column("repair_actions", Text),
    Column("function_test_passed", Boolean),
    Column("function_test_note", Text),
    Column("confirmed_by", String(100)),
    Column("confirmed_at", UTCDateTime),
    Column("signature", Text),  # data:image/png;base64,... as drawn on the engineer's phone
    Column("site_cleaned", Boolean),
    Column("outcome", String(12)),
    Column("cancel_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index(None, "work_order_id", "id"),
    Index(None, "engineer_id", "window_start"),
)

load_changes = Table(
    "load_changes",
    metadata,
    # +1/-1 for each change of the open work orders a user handles, appended by a trigger on
    # work_orders (so no path - service, worker, bulk load - can forget it) and folded into
    # users.open_assigned by the worker. Appending, not updating users, keeps concurrent
    # registrations by the same account (an integration, a busy agent) from queueing on one row lock.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("delta", SmallInteger, nullable=False),
    Index(None, "user_id"),
)

checklist_steps = Table(
    "checklist_steps",
    metadata,
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("code", String(40), nullable=False),
    Column("done_at", UTCDateTime),
    Column("done_by", BigId, ForeignKey("users.id")),
    Column("data", Json, nullable=False),
)


# --- channels -----------------------------------------------------------------------------------

contacts = Table(
    "contacts",
    metadata,
    # Every inbound and outbound message or call, on any channel (R1, R6).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id")),
    Column("channel", String(20), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("address", String(200)),
    Column("subject", String(300)),
    Column("body", Text, nullable=False),
    # The provider's id of the message (SMS gateway, WeChat MsgId, Message-ID, CTI call id):
    # a provider's retry of the same message is recognised and stores nothing new.
    Column("provider_message_id", String(200)),
    Column("work_order_id", BigId, ForeignKey("work_orders.id")),
    Column("attachments", Json, nullable=False),
    Column("data", Json, nullable=False),
    Index(None, "channel", "provider_message_id", unique=True),
    Index(None, "customer_id", "id"),
    Index(None, "work_order_id", "id"),
)

attachment_files = Table(
    "attachment_files",
    metadata,
    # The files that came with a contact (e-mail attachments), within the size and type limits.
    Column("contact_id", BigId, ForeignKey("contacts.id"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("call_id", String(100), nullable=False, unique=True),
    Column("caller", String(30), nullable=False),
    Column("callee", String(30)),
    Column("queue", String(100)),
    Column("agent_id", BigId, ForeignKey("users.id")),
    Column("ringing_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("hangup_at", UTCDateTime),
    Column("customer_id", BigId, ForeignKey("customers.id")),
    Column("work_order_id", BigId, ForeignKey("work_orders.id")),
    Column("contact_id", BigId, ForeignKey("contacts.id")),
    # Placed from a work order (click-to-call): `caller` is then the customer's number dialled.
    Column("outbound", Boolean, nullable=False, server_default=text("false")),
    Index(None, "agent_id", "id"),
    Index(None, "ringing_at"),
)

message_templates = Table(
    "message_templates",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("locale", String(10), primary_key=True),
    Column("subject", String(300)),
    Column("body", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", BigId, ForeignKey("users.id")),
    # Canned replies (key "reply.*", channel "reply"): the category they are offered for, if one.
    Column("category", String(100)),
)

replies = Table(
    "replies",
    metadata,
    # A reply to the customer from the work order (issue #12); its delivery state is the outbox
    # row's (sent_at, attempts, last_error).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("subject", String(300)),
    Column("body", Text, nullable=False),
    Column("canned", String(50)),
    Column("locale", String(10), nullable=False),
    Column("author_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("outbox_id", BigId, ForeignKey("outbox.id")),
    Column("message_id", String(250)),  # e-mail: the Message-ID it went out with
    Column("in_reply_to", String(250)),  # e-mail: the customer's message it answers
    Index(None, "work_order_id", "id"),
    Index(None, "outbox_id"),
)

verification_codes = Table(
    "verification_codes",
    metadata,
    # One-time codes sent by SMS to the customer's phone, for the self-service portal.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default=text("0")),
    Column("used_at", UTCDateTime),
    Index(None, "work_order_id", "id"),
)

# --- tags and uploaded files -------------------------------------------------------------------

tags = Table(
    "tags",
    metadata,
    # An organisation's list of tags; it applies to the work orders of its subtree.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "organisation_id", "name", unique=True),
)

tag_settings = Table(
    "tag_settings",
    metadata,
    # Whether tags outside the lists may be typed on the work orders of an organisation's subtree.
    Column("organisation_id", BigId, ForeignKey("organisations.id"), primary_key=True),
    Column("free_tags", Boolean, nullable=False),
)

work_order_tags = Table(
    "work_order_tags",
    metadata,
    # The tags a work order carries, by name (what lists filter on and a text index takes).
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("tag", String(40), primary_key=True),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", BigId, ForeignKey("users.id"), nullable=False),
    Index(None, "tag", "work_order_id"),
)

work_order_files = Table(
    "work_order_files",
    metadata,
    # Files uploaded to a work order by an agent or by the customer on the portal, within the limits
    # e-mail attachments have (kefu.domain.attachments).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    Column("uploaded_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("by_customer", Boolean, nullable=False),
    Column("customer_visible", Boolean, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index(None, "work_order_id", "id"),
)

# --- workspace ----------------------------------------------------------------------------------

saved_filters = Table(
    "saved_filters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("query", String(1000), nullable=False),  # the list page's query string
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "user_id", "name", unique=True),
)


# --- audit ----------------------------------------------------------------------------------------

audit_log = Table(
    "audit_log",
    metadata,
    # The one append-only audit log (R35, B7): logins, permission and role changes, unmasked personal
    # data, exports, settings changes, tokens, passwords, seals of the work-order events. One hash
    # chain in the order of seq (kefu.domain.audit); the database refuses UPDATE and DELETE.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigId, ForeignKey("users.id")),  # None: kefu itself, or nobody signed in
    Column("action", String(40), nullable=False),
    Column("subject_type", String(40)),
    Column("subject_id", String(200)),
    Column("customer_id", BigId, ForeignKey("customers.id")),
    Column("reason", String(40)),
    Column("origin", String(64)),
    Column("details", Json, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "seq", unique=True),
    Index(None, "at"),
    # The auditors' filters, each walked newest first.
    Index(None, "actor_id", "id"),
    Index(None, "customer_id", "id"),
    Index(None, "action", "id"),
    Index(None, "subject_type", "subject_id", "id"),
)

# --- the edge: rate-limit counts (when neither Redis nor one process's memory keeps them), login lockout

rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    # One row per limit, key and window (kefu.adapters.db.ratelimit_repository): the count and when
    # the row may go (seconds since the epoch, as the `limits` storages count time).
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float(precision=53), nullable=False),
    Index(None, "expires_at"),
)

login_failures = Table(
    "login_failures",
    metadata,
    # Failed logins per account (the username typed, known or not) and per address, and the lock
    # they earned; a successful login clears the account's row.
    Column("scope", String(10), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    Index(None, "locked_until"),
)

# --- search (kefu.adapters.db.search_repository): words segmented by jieba, kept in step with the
# text they come from in the same transaction.

search_parts = Table(
    "search_parts",
    metadata,
    # One piece of searchable text of a work order: its own fields with its number and customer
    # ("work_order"), a note ("note", ref = the event's place in the timeline), an inbound message
    # ("contact", ref = the contact's id); another kind is one more `SqlSearchRepository.put`.
    # `words` is the text already segmented (space-separated, lower case).
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("ref", String(40), primary_key=True),
    # Where it counts: "main" (the work order itself), "more" (what everyone who sees the work
    # order may read), "internal" (internal notes: not searched for vendors and partners).
    Column("field", String(10), nullable=False),
    Column("words", Text, nullable=False),
)

search_documents = Table(
    "search_documents",
    metadata,
    # All parts of one work order, joined per field: what the full-text index covers. On SQLite an
    # FTS5 table (search_fts, external content) follows this table through triggers; on PostgreSQL
    # `vector` (main weighted A, more B, internal C) carries a GIN index and the three text
    # columns stay empty (narrow rows; the words are in search_parts). Both are made by the
    # migration (0011_search).
    Column("work_order_id", BigId, ForeignKey("work_orders.id"), primary_key=True),
    Column("main", Text, nullable=False),
    Column("more", Text, nullable=False),
    Column("internal", Text, nullable=False),
    Column("vector", Text().with_variant(TSVECTOR(), "postgresql")),
    # GIN on PostgreSQL; on SQLite a plain index of an empty column (the FTS5 table does the work).
    Index("ix_search_documents_vector", "vector", postgresql_using="gin"),
)

#: The tables SQLite makes for the FTS5 table (not in this metadata: compare migrations without them).
SQLITE_FTS_TABLES = frozenset(
    {"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config"}
)
#: The FTS5 table that indexes search_documents on SQLite, and the triggers that keep it in step.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(main, more, internal, content='search_documents', "
    "content_rowid='work_order_id', tokenize='unicode61')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, main, more, internal) "
    "VALUES (new.work_order_id, new.main, new.more, new.internal); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, main, more, internal) "
    "VALUES ('delete', old.work_order_id, old.main, old.more, old.internal); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, main, more, internal) "
    "VALUES ('delete', old.work_order_id, old.main, old.more, old.internal); "
    "INSERT INTO search_fts(rowid, main, more, internal) "
    "VALUES (new.work_order_id, new.main, new.more, new.internal); END",
)
