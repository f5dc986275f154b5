"""The demo's people: who they are and the one password they share, shown by `kefu first-run` and,
with KEFU_DEMO=1 (never in production), on the login page, so that a new user can look around.

The password is derived from KEFU_SECRET_KEY: nothing stores it, and an installation with its own
secret key has its own demo password."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from kefu.domain.org import Role
from kefu.services.context import Context

#: username, display name, role; the field engineers' skills and regions are the loader's.
DEMO_PEOPLE: list[tuple[str, str, Role]] = [
    ("zhangwei", "张伟", Role.AGENT),
    ("lina", "李娜", Role.AGENT),
    ("wangfang", "王芳", Role.AGENT),
    ("liuyang", "刘洋", Role.AGENT),
    ("chenjing", "陈静", Role.AGENT),
    ("zhaolei", "赵磊", Role.AGENT),
    ("sunqiang", "孙强", Role.FIELD_ENGINEER),
    ("zhoujie", "周杰", Role.FIELD_ENGINEER),
    ("chenzhuguan", "陈主管", Role.SUPERVISOR),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role


def demo_password(secret_key: str) -> str:
    """The demo people's password: 12 hex digits keyed by the installation's secret, with a capital
    letter and a hyphen (the password policy wants two kinds of characters)."""
    digest = hmac.new(secret_key.encode(), b"kefu demo accounts", hashlib.sha256).hexdigest()
    return f"Demo-{digest[:12]}"


def demo_accounts(ctx: Context, password: str) -> list[DemoAccount]:
    """The demo people who exist, are active and still open with the demo password."""
    with ctx.uow() as uow:
        found = [(uow.users.get_by_username(name), name, display, role) for name, display, role in DEMO_PEOPLE]
    return [
        DemoAccount(name, user.display_name or display, role)
        for user, name, display, role in found
        if user is not None and user.active and ctx.hasher.verify(password, user.password_hash)
    ]
