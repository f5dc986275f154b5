"""Locking out guessers (R32): failed logins are counted per account — the username typed, whether
it exists or not, so a lock tells nothing about which usernames exist — and per address. After
`account_failures` (or `address_failures`) failures the account (or address) is locked for
`first_lock`, and each further failure doubles the lock up to `longest_lock`; `longest_lock`
without a failure forgets the count. A successful login clears the account's count (not the
address's: a guesser with one valid account must not reset it). While locked, logging in is
refused with the very message of a wrong password. Admins list the locks and lift them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, NotFound
from kefu.services import audit
from kefu.services.ports import LoginFailures, UnitOfWork

if TYPE_CHECKING:  # the Context holds the policy defined here
    from kefu.services.context import Context

ACCOUNT, ADDRESS = "account", "address"
LONGEST_KEY = 100


@dataclass(frozen=True)
class LockoutPolicy:
    account_failures: int = 5
    address_failures: int = 50
    first_lock: timedelta = timedelta(minutes=1)
    longest_lock: timedelta = timedelta(hours=1)

    def threshold(self, scope: str) -> int:
        return self.account_failures if scope == ACCOUNT else self.address_failures

    def lock_for(self, scope: str, failures: int) -> timedelta | None:
        """The lock `failures` failures earn: none below the threshold, then doubling."""
        over = failures - self.threshold(scope)
        if over < 0:
            return None
        return min(self.first_lock * (1 << min(over, 30)), self.longest_lock)


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = [(ACCOUNT, username[:LONGEST_KEY])]
    if address:
        keys.append((ADDRESS, address[:LONGEST_KEY]))
    return keys


def is_locked(uow: UnitOfWork, now: datetime, username: str, address: str | None) -> bool:
    """Whether the account or the address is locked now (reads both, always)."""
    found = [uow.lockouts.get(scope, key) for scope, key in _keys(username, address)]
    return any(r is not None and r.locked_until is not None and r.locked_until > now for r in found)


def failed(uow: UnitOfWork, policy: LockoutPolicy, now: datetime, username: str, address: str | None) -> None:
    """Count a failure for the account and the address; lock them when they earned it."""
    for scope, key in _keys(username, address):
        record = uow.lockouts.get(scope, key)
        if record is None or now - record.last_failure_at > policy.longest_lock:
            record = LoginFailures(scope=scope, key=key, failures=0, last_failure_at=now, locked_until=None)
        record.failures += 1
        record.last_failure_at = now
        lock = policy.lock_for(scope, record.failures)
        record.locked_until = now + lock if lock is not None else record.locked_until
        uow.lockouts.put(record)


def succeeded(uow: UnitOfWork, username: str) -> None:
    uow.lockouts.clear(ACCOUNT, username[:LONGEST_KEY])


def locked_now(ctx: Context, *, limit: int = 200) -> list[LoginFailures]:
    """The accounts and addresses locked now (the command line: the operator of the machine)."""
    with ctx.uow() as uow:
        return uow.lockouts.locked(ctx.clock.now(), limit)


def unlock(ctx: Context, scope: str, key: str) -> None:
    """Lift a lock and forget the failures: the command line, run by the operator of the machine.
    (Locks name usernames and addresses of every organisation; a page or API for them must first
    be scoped to the reader's organisation subtree.)"""
    with ctx.uow(write=True) as uow:
        if scope not in (ACCOUNT, ADDRESS) or not uow.lockouts.clear(scope, key):
            raise NotFound(kind=N_("Login lock"), key=f"{scope} {key}")
        audit.record(
            ctx, uow, None, AuditAction.LOGIN_UNLOCKED, subject_type="login_lock", details={"scope": scope, "key": key}
        )
        uow.commit()
