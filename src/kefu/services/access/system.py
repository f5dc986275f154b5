"""The `system` account: an inactive account with no password that signs what kefu does by itself
(time-limit warnings and escalations, work orders opened by the channels, customers' confirmations
through the portal). Made by `seed_reference_data`; found here, and only here."""

from __future__ import annotations

from kefu.domain.org import SYSTEM_USERNAME, User
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork


def system_account(ctx: Context, uow: UnitOfWork) -> User:
    """The system account (cached: read on every channel message and every worker tick)."""

    def load() -> User:
        user = uow.users.get_by_username(SYSTEM_USERNAME)
        if user is None or user.id is None:
            raise RuntimeError("the `system` account is missing: run `kefu db upgrade` (it seeds reference data)")
        return user

    return ctx.caches.system.get_or_load(SYSTEM_USERNAME, load)


def system_id(ctx: Context, uow: UnitOfWork) -> int:
    """The system account's id, for events it signs."""
    found = system_account(ctx, uow).id
    assert found is not None
    return found
