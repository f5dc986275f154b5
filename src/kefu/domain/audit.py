"""The audit trail (R35, B7): what is recorded, why personal data was shown, and the hash chains
that make an edited, inserted or deleted row detectable.

Plain Python on purpose: the canonical form of a row and its hash are computed here, so storage,
the demo's bulk loader, the migration that chained the rows already stored and `kefu audit verify`
agree byte for byte. The canonical form never changes: a different one would make every stored
chain look tampered with (a new form would be a new chain format, recorded per row).

Two kinds of chain (docs/SECURITY.md explains why):
- the audit log is one chain, in the order of `seq`;
- the events of each work order are a chain of their own, in the order of their `seq` within the
  work order, so registering work orders never waits for one global lock. The work order keeps how
  many events it has (`event_seq`), and seals in the audit log fix the hashes of all events up to an
  id, so deleting a work order's events — all or the last ones — is detectable as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from kefu.domain.errors import ValidationFailed
from kefu.domain.events import WorkOrderEvent

#: What the first row of every chain points back to.
GENESIS = "0" * 64


class AuditAction(StrEnum):
    """What an audit row records. Values are stored; labels are in kefu.web.i18n_labels."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"  # actor None for an unknown username; details {"username": ...}
    LOGOUT = "logout"
    SESSIONS_ENDED = "sessions.ended"  # ended from the list of sessions, by a new password or an administrator
    LOGIN_UNLOCKED = "login.unlocked"  # a lockout lifted: details {"scope": "account" | "address", "key": ...}
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - the names of actions, not secrets
    PASSWORD_RESET = "password.reset"  # noqa: S105 - an administrator reset someone else's password
    TWO_FACTOR_CHANGED = "two_factor.changed"  # enrolled, removed, recovery codes renewed
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"  # team, organisation, profile, disabled or enabled
    ROLE_CHANGED = "user.role_changed"  # role or permissions: details {"before": ..., "after": ...}
    TOKEN_ISSUED = "token.issued"  # noqa: S105
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    SETTING_CHANGED = "setting.changed"  # subject: the setting's kind and key; details before/after
    PERSONAL_DATA_UNMASKED = "personal_data.unmasked"  # subject: the customer; reason: an UnmaskReason
    DATA_EXPORTED = "data.exported"
    AUDIT_READ = "audit.read"  # someone read this log
    KEYS_ROTATED = "keys.rotated"
    BACKUP_CREATED = "backup.created"
    BACKUP_RESTORED = "backup.restored"
    CUSTOMER_CHANGED = "customer.changed"  # details {"fields": [...]}; the values are in its history
    CUSTOMER_MERGED = "customer.merged"  # subject: the survivor; details {"merged": id, "work_orders": n}
    EVENTS_SEALED = "events.sealed"  # the hashes of the work-order events up to an id (see Seal)


class UnmaskReason(StrEnum):
    """Why someone asks to see a customer's personal data unmasked (R3, R31): one of a fixed list,
    so the log can be read and counted; free text may add detail."""

    IDENTITY_VERIFIED = "identity_verified"  # the caller proved to be the customer
    CUSTOMER_REQUEST = "customer_request"
    FIELD_VISIT = "field_visit"
    COMPLAINT_HANDLING = "complaint_handling"
    LEGAL_REQUEST = "legal_request"  # police, court, regulator


@dataclass(frozen=True)
class Unmasking:
    """The reason given for one unmasked view."""

    reason: UnmaskReason
    note: str | None = None

    @classmethod
    def asked(cls, reason: str | None, note: str | None = None) -> Unmasking:
        """From input: the reason must be one of the list; the note is optional, 200 characters at most."""
        try:
            chosen = UnmaskReason((reason or "").strip())
        except ValueError:
            raise ValidationFailed(
                "Say why you need the personal data: reason must be one of {reasons}.",
                field="reason",
                reasons=", ".join(r.value for r in UnmaskReason),
            ) from None
        text = (note or "").strip()
        if len(text) > 200:
            raise ValidationFailed("The note on the reason may have at most 200 characters.", field="reason_note")
        return cls(chosen, text or None)


@dataclass(frozen=True)
class AuditEntry:
    """One thing to record: who (None: kefu itself, or someone not signed in), did what, to what,
    about which customer, why, from where, with what details (JSON-like values)."""

    action: AuditAction
    at: datetime
    actor_id: int | None
    subject_type: str | None = None  # "customer", "user", "token", "category", "routing_rule" ...
    subject_id: str | None = None
    customer_id: int | None = None
    reason: str | None = None  # a code, e.g. an UnmaskReason
    origin: str | None = None  # the client's address, where there is one
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # What is hashed must be what the database gives back: JSON-plain details, bounded strings.
        object.__setattr__(self, "details", plain(dict(self.details)))
        for name, size in (("subject_type", 40), ("subject_id", 200), ("reason", 40), ("origin", 64)):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value)[:size])


@dataclass(frozen=True)
class AuditRecord:
    """A stored audit row."""

    id: int
    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor looks for; every part is optional. Newest first, keyset by id."""

    start: datetime | None = None
    end: datetime | None = None
    actor_id: int | None = None
    actions: tuple[AuditAction, ...] = ()
    subject_type: str | None = None
    subject_id: str | None = None
    customer_id: int | None = None
    before_id: int | None = None
    #: The reader's scope: rows of what people of these organisations did (None: every row, those
    #: of kefu itself and of people not signed in included). Set by the services, never from input.
    actor_organisation_ids: frozenset[int] | None = None


# --- the canonical form and the hash --------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON gives it back: dicts with string keys, lists, str, int, float, bool, None.
    Datetimes become ISO-8601 in UTC; a float without a fraction becomes an int (PostgreSQL's JSONB
    may give back 1e20 as 100000000000000000000); anything else becomes its str()."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


def _instant(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("a naive datetime cannot be hashed: times are timezone-aware UTC")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(content: Mapping[str, Any]) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(plain(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 over the previous row's hash, a newline and this row's canonical form (hex)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(content)}".encode()).hexdigest()


def chained(contents: Iterable[Mapping[str, Any]], prev_hash: str) -> list[dict[str, Any]]:
    """Rows of a chain continuing after the row whose hash is `prev_hash`: each content with the
    previous row's hash and its own (the contents' keys are the columns: see audit_content and
    event_content)."""
    rows = []
    for content in contents:
        digest = chain_hash(prev_hash, content)
        rows.append({**content, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    return rows


def audit_content(seq: int, entry: AuditEntry) -> dict[str, Any]:
    """What an audit row's hash covers: everything but its database id and the hashes."""
    return {
        "seq": seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "action": entry.action.value,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "customer_id": entry.customer_id,
        "reason": entry.reason,
        "origin": entry.origin,
        "details": entry.details,
    }


def event_content(work_order_id: int, seq: int, event: WorkOrderEvent) -> dict[str, Any]:
    """What a work-order event's hash covers: its work order, its place there and everything it says."""
    return {
        "work_order_id": work_order_id,
        "seq": seq,
        "kind": event.kind.value,
        "actor_id": event.actor_id,
        "at": event.at,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "visibility": event.visibility,
        "data": event.data,
    }


@dataclass(frozen=True)
class ChainLink:
    """One stored row of a chain, as the verification reads it."""

    table: str
    id: int
    seq: int
    prev_hash: str
    hash: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Tampering:
    """The first row where a chain does not hold: the table, the row's id and what is wrong."""

    table: str
    row_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.table} id {self.row_id}" if self.row_id is not None else self.table
        return f"{where}: {self.problem}"


def first_break(links: Iterable[ChainLink], *, start_seq: int = 0, start_hash: str = GENESIS) -> Tampering | None:
    """Walk one chain in order of seq; the first link that is out of place, points to another
    previous row, or no longer matches its own hash."""
    expected_seq, prev = start_seq, start_hash
    for link in links:
        expected_seq += 1
        if link.seq > expected_seq:
            missing = f"{expected_seq}" if link.seq == expected_seq + 1 else f"{expected_seq}-{link.seq - 1}"
            return Tampering(link.table, link.id, f"row(s) with seq {missing} before it are missing (deleted)")
        if link.seq < expected_seq:
            return Tampering(link.table, link.id, f"seq {link.seq} repeats or goes back (a row was inserted)")
        if link.prev_hash != prev:
            return Tampering(
                link.table, link.id, "it does not point to the row before it (a row was deleted or inserted)"
            )
        if chain_hash(link.prev_hash, link.content) != link.hash:
            return Tampering(link.table, link.id, "its contents no longer match its hash (edited or forged)")
        prev = link.hash
    return None


# --- seals: the work-order events up to an id, fixed in the audit chain ---------------------------


@dataclass(frozen=True)
class Seal:
    """The events with ids in (from_id, through_id]: how many, and a digest of their ids and hashes.
    `next_through_id` is where the next seal will end (the highest id when this one was made: the
    next seal waits until every transaction that may still add an event below it has ended)."""

    from_id: int
    through_id: int
    events: int
    digest: str
    next_through_id: int
    marker: int | None = None  # PostgreSQL: the transaction horizon that must pass first

    def as_details(self) -> dict[str, Any]:
        return {
            "from_id": self.from_id,
            "through_id": self.through_id,
            "events": self.events,
            "digest": self.digest,
            "next_through_id": self.next_through_id,
            "marker": self.marker,
        }

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> Seal:
        return cls(
            from_id=int(details["from_id"]),
            through_id=int(details["through_id"]),
            events=int(details["events"]),
            digest=str(details["digest"]),
            next_through_id=int(details["next_through_id"]),
            marker=None if details.get("marker") is None else int(details["marker"]),
        )


def seal_digest(rows: Iterable[tuple[int, str]]) -> tuple[int, str]:
    """(count, SHA-256 over "id:hash" lines) of events in id order."""
    digest = hashlib.sha256()
    count = 0
    for row_id, row_hash in rows:
        digest.update(f"{row_id}:{row_hash}\n".encode())
        count += 1
    return count, digest.hexdigest()
