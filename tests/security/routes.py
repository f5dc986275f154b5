"""Every route of the application, mapped to its action in the matrix (docs/SECURITY.md) with a probe:
the request that does the action to province A's objects (work order, customer, hop, visit, team,
user, rule …), or to nothing in particular. The bodies are valid: a role the matrix allows gets past
the permission and scope checks, so a refusal elsewhere is a real refusal.

Targets: "A" — an object of province A (a case: A1, or A2 which was dispatched to the vendor);
"list" — answers with what is in the actor's reach; "none" — no object; "self" — the actor's own;
"other" — someone else's own thing (nobody else may touch it)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kefu.domain.message_texts import DEFAULT_TEMPLATES
from kefu.services.access.accounts import log_in
from kefu.services.access.sessions import session_id_of
from kefu.services.access.tokens import create_api_token
from tests.security.world import Actor, Case, World
from tests.support.factories import PASSWORD, unique_phone, work_order_body


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    params: dict[str, str] | None = None
    json: Any = None
    form: dict[str, str] | None = None  # a page's form: the runner adds the CSRF token


Build = Callable[[World, Case, Actor | None], Req]


@dataclass(frozen=True)
class Probe:
    action: str
    target: str  # A, list, none, self, other
    build: Build
    answers: tuple[int, ...] = (200,)  # what an allowed "list" probe answers
    fresh_session: bool = False  # the probe ends the session it uses (and is sent to the login page)
    ends_sessions: bool = False  # the probe ends every session of its actor: the runner opens a new one
    of_case: bool = True  # the object belongs to the case (False: to A itself, e.g. A's team)
    #: Strings only someone who reaches A's objects may receive from this probe.
    outsider_absent: tuple[str, ...] = field(default=())


def _r() -> str:
    return secrets.token_hex(4)


def _month(w: World) -> str:
    return w.kefu.ctx.clock.now().astimezone(w.kefu.ctx.timezone).strftime("%Y-%m")


def _day(w: World) -> str:
    return (w.kefu.ctx.clock.now().astimezone(w.kefu.ctx.timezone) + timedelta(days=2)).date().isoformat()


def _window(w: World, days: int) -> tuple[str, str]:
    start = w.kefu.ctx.clock.now().replace(microsecond=0) + timedelta(days=days)
    return start.isoformat(), (start + timedelta(hours=2)).isoformat()


def _policy(w: World) -> dict[str, Any]:
    from kefu.api.sla import PolicyIO

    root = w.kefu.ctx
    with root.uow() as uow:
        policy = next(p for p in uow.sla.policies() if p.id == w.policy_id)
    return PolicyIO.of(policy).model_dump(mode="json", exclude={"id"})


def _duplicate_of_a(w: World) -> int:
    """A fresh customer of province A, to merge into one of A's (each probe its own)."""
    from kefu.services.customers import NewCustomer, register_customer

    found = register_customer(w.kefu.ctx, w.a_agent, NewCustomer(name="新客户", phone=unique_phone()))
    assert found.id is not None
    return found.id


def _rule(w: World) -> dict[str, Any]:
    return {
        "name": f"甲省规则{w.tag}",
        "position": 500,
        "team_id": w.a_field,
        "conditions": {"regions": [f"甲区域{w.tag}"]},
        "organisation_id": w.a,
    }


def _agent_token(w: World) -> int:
    """A new API token of A's agent (each probe revokes its own)."""
    return create_api_token(w.kefu.ctx, w.a_agent.username, name=f"甲令牌{w.tag}").credential.id


def _agent_session(w: World) -> int:
    """A new page session of A's agent (each probe ends its own)."""
    token = log_in(w.kefu.ctx, w.a_agent.username, PASSWORD)[1]
    with w.kefu.ctx.uow() as uow:
        found = session_id_of(w.kefu.ctx, uow, token)
    assert found is not None
    return found


def _account_of_a(method: str, path: str, form: dict[str, str] | None = None, json: Any = None) -> Probe:
    """A probe on the account of A's agent (`{user}` in `path` is its id, `{token}` a new token of it)."""

    def build(w: World, c: Case, me: Actor | None) -> Req:
        url = path.replace("{user}", str(w.a_agent.id))
        if "{token}" in url:
            url = url.replace("{token}", str(_agent_token(w)))
        if "{session}" in url:
            url = url.replace("{session}", str(_agent_session(w)))
        return Req(method, url, json=json, form=form)

    return Probe("account.manage", "A", build)


def _template() -> str:
    return DEFAULT_TEMPLATES["acknowledged"]["zh_CN"][1]


def _register_form(w: World) -> dict[str, str]:
    return {
        "customer_id": str(w.customer_id),
        "type": "fault",
        "channel": "hotline",
        "category": "broadband.no_connection",
        "title": "探测",
        "description": "探测",
    }


P = Probe
ROUTES: dict[tuple[str, str], Probe] = {
    # --- public ----------------------------------------------------------------------------------
    ("GET", "/api/v1/openapi.json"): P("public", "none", lambda w, c, me: Req("GET", "/api/v1/openapi.json")),
    ("GET", "/api/v1/docs"): P("public", "none", lambda w, c, me: Req("GET", "/api/v1/docs")),
    ("GET", "/docs/oauth2-redirect"): P("public", "none", lambda w, c, me: Req("GET", "/docs/oauth2-redirect")),
    ("GET", "/healthz"): P("public", "none", lambda w, c, me: Req("GET", "/healthz")),
    ("GET", "/static"): P("public", "none", lambda w, c, me: Req("GET", "/static/kefu.css")),
    ("POST", "/api/v1/channels/sms/inbound"): P(
        "public", "none", lambda w, c, me: Req("POST", "/api/v1/channels/sms/inbound", json={"from": w.phone})
    ),
    ("GET", "/channels/wechat"): P("public", "none", lambda w, c, me: Req("GET", "/channels/wechat")),
    ("POST", "/channels/wechat"): P("public", "none", lambda w, c, me: Req("POST", "/channels/wechat")),
    ("GET", "/"): P("public", "none", lambda w, c, me: Req("GET", "/")),
    ("GET", "/lang/{locale}"): P("public", "none", lambda w, c, me: Req("GET", "/lang/en")),
    ("GET", "/login"): P("public", "none", lambda w, c, me: Req("GET", "/login")),
    ("POST", "/login"): P(
        "public",
        "none",
        lambda w, c, me: Req("POST", "/login", form={"username": me.user.username if me else "x", "password": "wrong"}),
    ),
    ("GET", "/ui/admin"): P("public", "none", lambda w, c, me: Req("GET", "/ui/admin")),
    ("GET", "/portal"): P("public", "none", lambda w, c, me: Req("GET", "/portal")),
    # The login's code step (a session waiting for it; anyone else is sent on) and a password reset
    # with the code an administrator handed over.
    ("GET", "/login/code"): P("public", "none", lambda w, c, me: Req("GET", "/login/code")),
    ("POST", "/login/code"): P("public", "none", lambda w, c, me: Req("POST", "/login/code", form={"code": "000000"})),
    ("GET", "/password/reset"): P("public", "none", lambda w, c, me: Req("GET", "/password/reset")),
    ("POST", "/password/reset"): P(
        "public",
        "none",
        lambda w, c, me: Req(
            "POST", "/password/reset", form={"code": "ABCD-EFGH-JKLM-NPQR", "password": PASSWORD, "repeat": PASSWORD}
        ),
    ),
    ("POST", "/portal/requests"): P(
        "public",
        "none",
        lambda w, c, me: Req(
            "POST",
            "/portal/requests",
            form={"name": "门户", "phone": unique_phone(), "type": "inquiry", "description": "探测"},
        ),
    ),
    ("POST", "/portal/track"): P(
        "public",
        "none",
        lambda w, c, me: Req("POST", "/portal/track", form={"number": c.number, "phone": "13800000000"}),
    ),
    ("POST", "/portal/verify"): P(
        "public", "none", lambda w, c, me: Req("POST", "/portal/verify", form={"number": c.number, "code": "000000"})
    ),
    ("GET", "/portal/orders/{number}"): P("public", "none", lambda w, c, me: Req("GET", f"/portal/orders/{c.number}")),
    ("POST", "/portal/orders/{number}/{action}"): P(
        "public", "none", lambda w, c, me: Req("POST", f"/portal/orders/{c.number}/confirm", form={})
    ),
    # --- one's own -------------------------------------------------------------------------------
    ("GET", "/api/v1/me"): P("own", "self", lambda w, c, me: Req("GET", "/api/v1/me")),
    ("POST", "/logout"): P("own", "self", lambda w, c, me: Req("POST", "/logout", form={}), fresh_session=True),
    ("POST", "/ui/filters"): P(
        "own", "self", lambda w, c, me: Req("POST", "/ui/filters", form={"name": f"探测{_r()}", "query": "status=open"})
    ),
    ("POST", "/ui/filters/{filter_id}/delete"): P(
        "own", "other", lambda w, c, me: Req("POST", f"/ui/filters/{w.filter_id}/delete", form={})
    ),
    # Notifications: one's own only; another user's by id does not exist (A's agent's is tried).
    ("GET", "/api/v1/notifications"): P("own", "self", lambda w, c, me: Req("GET", "/api/v1/notifications")),
    ("POST", "/api/v1/notifications/read-all"): P(
        "own", "self", lambda w, c, me: Req("POST", "/api/v1/notifications/read-all")
    ),
    ("POST", "/api/v1/notifications/{notification_id}/read"): P(
        "own", "other", lambda w, c, me: Req("POST", f"/api/v1/notifications/{w.notification_id}/read")
    ),
    ("GET", "/api/v1/me/notification-settings"): P(
        "own", "self", lambda w, c, me: Req("GET", "/api/v1/me/notification-settings")
    ),
    ("PUT", "/api/v1/me/notification-settings"): P(
        "own", "self", lambda w, c, me: Req("PUT", "/api/v1/me/notification-settings", json={"copies": {}})
    ),
    ("GET", "/ui/notifications"): P("own", "self", lambda w, c, me: Req("GET", "/ui/notifications")),
    ("GET", "/ui/notifications/bell"): P("own", "self", lambda w, c, me: Req("GET", "/ui/notifications/bell")),
    ("POST", "/ui/notifications/read-all"): P(
        "own", "self", lambda w, c, me: Req("POST", "/ui/notifications/read-all", form={})
    ),
    ("POST", "/ui/notifications/{notification_id}/read"): P(
        "own", "other", lambda w, c, me: Req("POST", f"/ui/notifications/{w.notification_id}/read", form={})
    ),
    ("POST", "/ui/notifications/{notification_id}/open"): P(
        "own", "other", lambda w, c, me: Req("POST", f"/ui/notifications/{w.notification_id}/open", form={})
    ),
    ("GET", "/ui/account/notifications"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account/notifications")),
    ("POST", "/ui/account/notifications"): P(
        "own", "self", lambda w, c, me: Req("POST", "/ui/account/notifications", form={})
    ),
    # One's own account (main's accounts work): every signed-in user, for itself only — the routes
    # name no user. Changing the password to itself is refused (422) after the permission checks.
    ("GET", "/api/v1/me/sessions"): P("own", "self", lambda w, c, me: Req("GET", "/api/v1/me/sessions")),
    ("DELETE", "/api/v1/me/sessions"): P(
        "own", "self", lambda w, c, me: Req("DELETE", "/api/v1/me/sessions"), ends_sessions=True
    ),
    ("GET", "/api/v1/me/tokens"): P("own", "self", lambda w, c, me: Req("GET", "/api/v1/me/tokens")),
    ("POST", "/api/v1/me/tokens"): P(
        "own", "self", lambda w, c, me: Req("POST", "/api/v1/me/tokens", json={"name": "探测令牌", "days": 1})
    ),
    ("GET", "/api/v1/me/two-factor"): P("own", "self", lambda w, c, me: Req("GET", "/api/v1/me/two-factor")),
    ("POST", "/api/v1/me/password"): P(
        "own",
        "self",
        lambda w, c, me: Req(
            "POST", "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD}
        ),
    ),
    ("GET", "/ui/account"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account")),
    ("GET", "/ui/account/password"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account/password")),
    ("POST", "/ui/account/password"): P(
        "own",
        "self",
        lambda w, c, me: Req(
            "POST",
            "/ui/account/password",
            form={"current_password": PASSWORD, "password": PASSWORD, "repeat": PASSWORD},
        ),
    ),
    ("GET", "/ui/account/sessions"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account/sessions")),
    ("POST", "/ui/account/sessions/end-others"): P(
        "own", "self", lambda w, c, me: Req("POST", "/ui/account/sessions/end-others", form={})
    ),
    ("GET", "/ui/account/tokens"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account/tokens")),
    ("POST", "/ui/account/tokens"): P(
        "own", "self", lambda w, c, me: Req("POST", "/ui/account/tokens", form={"name": "探测令牌", "days": "1"})
    ),
    ("GET", "/ui/account/two-factor"): P("own", "self", lambda w, c, me: Req("GET", "/ui/account/two-factor")),
    **{
        ("POST", f"/ui/account/two-factor/{step}"): P(
            "own",
            "self",
            (lambda s: lambda w, c, me: Req("POST", f"/ui/account/two-factor/{s}", form={"code": "000000"}))(step),
        )
        for step in ("confirm", "off", "recovery-codes")
    },
    # By id, the same routes also end a session or revoke a token of a user one manages: tried on A's
    # agent's (one's own: test_everyone_ends_its_own_sessions_and_tokens).
    ("DELETE", "/api/v1/me/sessions/{session_id}"): _account_of_a("DELETE", "/api/v1/me/sessions/{session}"),
    ("POST", "/ui/account/sessions/{session_id}/end"): _account_of_a(
        "POST", "/ui/account/sessions/{session}/end", form={}
    ),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): _account_of_a("DELETE", "/api/v1/me/tokens/{token}"),
    ("POST", "/ui/account/tokens/{token_id}/revoke"): _account_of_a(
        "POST", "/ui/account/tokens/{token}/revoke", form={}
    ),
    ("GET", "/ui/work-orders/new"): P(
        "own", "self", lambda w, c, me: Req("GET", "/ui/work-orders/new", params={"customer_id": str(w.customer_id)})
    ),
    # --- reference data ----------------------------------------------------------------------------
    ("GET", "/api/v1/categories"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/categories")),
    ("GET", "/api/v1/teams"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/teams")),
    ("GET", "/api/v1/organisations"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/organisations")),
    ("GET", "/api/v1/sla/policies"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/sla/policies")),
    ("GET", "/api/v1/sla/calendars"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/sla/calendars")),
    ("GET", "/api/v1/message-templates"): P(
        "reference", "none", lambda w, c, me: Req("GET", "/api/v1/message-templates")
    ),
    ("GET", "/api/v1/routing-rules"): P("reference", "list", lambda w, c, me: Req("GET", "/api/v1/routing-rules")),
    ("GET", "/api/v1/agents"): P("reference", "list", lambda w, c, me: Req("GET", "/api/v1/agents")),
    # --- customers -------------------------------------------------------------------------------
    ("POST", "/api/v1/customers"): P(
        "customer.create",
        "none",
        lambda w, c, me: Req("POST", "/api/v1/customers", json={"name": "探测客户", "phone": unique_phone()}),
    ),
    ("GET", "/api/v1/customers"): P(
        "read", "list", lambda w, c, me: Req("GET", "/api/v1/customers", params={"phone": w.phone})
    ),
    ("GET", "/api/v1/customers/{customer_id}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/customers/{c.customer_id}")
    ),
    ("GET", "/api/v1/customers/{customer_id}/timeline"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/customers/{c.customer_id}/timeline")
    ),
    ("GET", "/api/v1/customers/{customer_id}/sla-statement"): P(
        "read",
        "A",
        lambda w, c, me: Req("GET", f"/api/v1/customers/{c.customer_id}/sla-statement", params={"month": _month(w)}),
    ),
    ("POST", "/api/v1/customers/{customer_id}/agreements"): P(
        "agreement",
        "A",
        lambda w, c, me: Req(
            "POST",
            f"/api/v1/customers/{c.customer_id}/agreements",
            json={
                "name": f"协议{_r()}",
                "targets": {"resolution": 480},
                "compensation_fen_per_hour": 100,
                "valid_from": "2026-01-01",
            },
        ),
    ),
    ("PATCH", "/api/v1/customers/{customer_id}"): P(
        "customer.edit",
        "A",
        lambda w, c, me: Req("PATCH", f"/api/v1/customers/{c.customer_id}", json={"region": f"探测{_r()}"}),
    ),
    ("POST", "/ui/customers/{customer_id}/edit"): P(
        "customer.edit",
        "A",
        lambda w, c, me: Req("POST", f"/ui/customers/{c.customer_id}/edit", form={"region": f"探测{_r()}"}),
    ),
    ("POST", "/api/v1/customers/{customer_id}/merges"): P(
        "customer.edit",
        "A",
        lambda w, c, me: Req(
            "POST", f"/api/v1/customers/{c.customer_id}/merges", json={"merged_id": _duplicate_of_a(w)}
        ),
    ),
    ("POST", "/ui/customers/{customer_id}/merge"): P(
        "customer.edit",
        "A",
        lambda w, c, me: Req(
            "POST", f"/ui/customers/{c.customer_id}/merge", form={"merged_id": str(_duplicate_of_a(w))}
        ),
    ),
    ("GET", "/api/v1/customers/{customer_id}/history"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/customers/{c.customer_id}/history")
    ),
    ("GET", "/ui/customers/{customer_id}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/ui/customers/{c.customer_id}")
    ),
    ("GET", "/api/v1/contacts/{contact_id}/attachments/{position}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/contacts/{c.contact_id}/attachments/0")
    ),
    ("GET", "/ui/contacts/{contact_id}/attachments/{position}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/ui/contacts/{c.contact_id}/attachments/0")
    ),
    ("GET", "/ui/customers/lookup"): P(
        "read", "list", lambda w, c, me: Req("GET", "/ui/customers/lookup", params={"phone": w.phone})
    ),
    # --- the hotline -----------------------------------------------------------------------------
    ("POST", "/api/v1/cti/events"): P(
        "cti",
        "none",
        lambda w, c, me: Req(
            "POST",
            "/api/v1/cti/events",
            json={
                "call_id": f"probe-{_r()}",
                "event": "ringing",
                "at": w.kefu.ctx.clock.now().isoformat(),
                "caller": "13800000000",
            },
        ),
    ),
    ("GET", "/api/v1/cti/screen-pop"): P(
        "read", "list", lambda w, c, me: Req("GET", "/api/v1/cti/screen-pop", params={"caller": w.phone})
    ),
    ("GET", "/ui/cti"): P("read", "list", lambda w, c, me: Req("GET", "/ui/cti", params={"caller": w.phone})),
    # --- work orders -----------------------------------------------------------------------------
    ("POST", "/api/v1/work-orders"): P(
        "workorder.create",
        "A",
        lambda w, c, me: Req("POST", "/api/v1/work-orders", json=work_order_body(w.customer_id, title="探测")),
    ),
    ("POST", "/ui/work-orders"): P(
        "workorder.create", "A", lambda w, c, me: Req("POST", "/ui/work-orders", form=_register_form(w))
    ),
    # The form's helper: answers everyone, and shows a promise only to who may register for the customer.
    ("GET", "/ui/work-orders/promise"): P(
        "own",
        "self",
        lambda w, c, me: Req("GET", "/ui/work-orders/promise", params=_register_form(w)),
        outsider_absent=("<strong>",),
    ),
    ("GET", "/api/v1/work-orders"): P(
        "read", "list", lambda w, c, me: Req("GET", "/api/v1/work-orders", params={"limit": "200"})
    ),
    ("GET", "/api/v1/work-orders/export"): P(
        "read", "list", lambda w, c, me: Req("GET", "/api/v1/work-orders/export", params={"max_rows": "1000"})
    ),
    ("GET", "/api/v1/search"): P(
        "read", "list", lambda w, c, me: Req("GET", "/api/v1/search", params={"q": c.number, "limit": "100"})
    ),
    ("GET", "/ui/search"): P("read", "list", lambda w, c, me: Req("GET", "/ui/search", params={"q": c.number})),
    ("GET", "/ui/work-orders"): P(
        "read", "list", lambda w, c, me: Req("GET", "/ui/work-orders", params={"status": "all"})
    ),
    ("GET", "/api/v1/work-orders/{number}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}")
    ),
    ("GET", "/api/v1/work-orders/{number}/history"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/history")
    ),
    ("GET", "/ui/work-orders/{number}"): P("read", "A", lambda w, c, me: Req("GET", f"/ui/work-orders/{c.number}")),
    ("PATCH", "/api/v1/work-orders/{number}"): P(
        "correct",
        "A",
        lambda w, c, me: Req("PATCH", f"/api/v1/work-orders/{c.number}", json={"device": f"探测终端{_r()}"}),
    ),
    ("POST", "/ui/work-orders/{number}/edit"): P(
        "correct",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/edit", form={"device": f"探测终端{_r()}"}),
    ),
    ("POST", "/api/v1/work-orders/{number}/priority"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/priority", json={"priority": "P2"}),
    ),
    ("POST", "/api/v1/work-orders/{number}/transitions"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/transitions", json={"to": "returned"}),
    ),
    ("POST", "/ui/work-orders/{number}/transition"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/transition", form={"to": "returned"}),
    ),
    ("POST", "/api/v1/work-orders/{number}/links"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/links", json={"other": w.a2.number}),
    ),
    ("POST", "/ui/work-orders/{number}/links"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/links", form={"other": w.a2.number}),
    ),
    # Personal data shown with a reason (audited): the operator's roles with pii.view, in scope.
    ("POST", "/ui/work-orders/{number}/unmask"): P(
        "unmask",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/unmask", form={"reason": "identity_verified"}),
    ),
    ("POST", "/api/v1/work-orders/{number}/notes"): P(
        "note", "A", lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/notes", json={"body": "探测备注"})
    ),
    ("POST", "/ui/work-orders/{number}/notes"): P(
        "note", "A", lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/notes", form={"body": "探测备注"})
    ),
    # Replies to the customer (issue #12): the operator's handling roles, in scope; never a vendor.
    ("POST", "/api/v1/work-orders/{number}/replies"): P(
        "reply", "A", lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/replies", json={"body": "探测回复"})
    ),
    ("POST", "/ui/work-orders/{number}/replies"): P(
        "reply", "A", lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/replies", form={"body": "探测回复"})
    ),
    ("POST", "/ui/work-orders/{number}/call"): P(
        "reply", "A", lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/call", form={})
    ),
    ("GET", "/api/v1/work-orders/{number}/replies"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/replies")
    ),
    ("GET", "/api/v1/canned-replies"): P("reference", "none", lambda w, c, me: Req("GET", "/api/v1/canned-replies")),
    ("PUT", "/api/v1/canned-replies/{key}/{locale}"): P(
        "settings",
        "none",
        lambda w, c, me: Req("PUT", "/api/v1/canned-replies/reply.probe/zh_CN", json={"body": "探测 {number}"}),
    ),
    ("POST", "/ui/admin/canned-reply"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST", "/ui/admin/canned-reply", form={"key": "reply.probe", "locale": "zh_CN", "body": "探测 {number}"}
        ),
    ),
    ("GET", "/api/v1/work-orders/{number}/checklist"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/checklist")
    ),
    ("POST", "/api/v1/work-orders/{number}/checklist/{step}"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/checklist/identity_verified", json={"data": {}}),
    ),
    ("POST", "/ui/work-orders/{number}/checklist/{code}"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/checklist/identity_verified", form={}),
    ),
    # --- dispatch and field service ----------------------------------------------------------------
    ("POST", "/api/v1/work-orders/{number}/dispatches"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req(
            "POST", f"/api/v1/work-orders/{c.number}/dispatches", json={"to_team_id": w.hq_team, "instruction": "探测"}
        ),
    ),
    ("POST", "/ui/work-orders/{number}/dispatch"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req(
            "POST", f"/ui/work-orders/{c.number}/dispatch", form={"to": f"team:{w.hq_team}", "instruction": "探测"}
        ),
    ),
    ("GET", "/api/v1/work-orders/{number}/dispatches"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/dispatches")
    ),
    ("POST", "/api/v1/dispatches/{dispatch_id}/accept"): P(
        "hop.answer", "A", lambda w, c, me: Req("POST", f"/api/v1/dispatches/{c.hop_id}/accept")
    ),
    ("POST", "/api/v1/dispatches/{dispatch_id}/reject"): P(
        "hop.answer",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/dispatches/{c.hop_id}/reject", json={"reason": "探测"}),
    ),
    ("POST", "/api/v1/dispatches/{dispatch_id}/return"): P(
        "hop.answer",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/dispatches/{c.hop_id}/return", json={"result": "探测"}),
    ),
    ("POST", "/ui/dispatches/{dispatch_id}/answer"): P(
        "hop.answer",
        "A",
        lambda w, c, me: Req(
            "POST", f"/ui/dispatches/{c.hop_id}/answer", form={"number": c.number, "action": "accept"}
        ),
    ),
    ("GET", "/api/v1/teams/{team_id}/queue"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/teams/{w.a_field}/queue"), of_case=False
    ),
    ("GET", "/ui/teams/{team_id}/queue"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/ui/teams/{w.a_field}/queue"), of_case=False
    ),
    ("POST", "/api/v1/work-orders/{number}/assignment"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/assignment", json={"team_id": w.a_reception}),
    ),
    ("POST", "/api/v1/work-orders/{number}/route"): P(
        "dispatch", "A", lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/route")
    ),
    ("POST", "/api/v1/work-orders/{number}/visits"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req(
            "POST",
            f"/api/v1/work-orders/{c.number}/visits",
            json=dict(
                zip(("window_start", "window_end"), _window(w, 8), strict=True), engineer_id=w.a_engineer.id or 0
            ),
        ),
    ),
    ("POST", "/ui/work-orders/{number}/visits"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req(
            "POST",
            f"/ui/work-orders/{c.number}/visits",
            form={
                "engineer_id": str(w.a_engineer.id),
                "window_start": _window(w, 9)[0][:16],
                "window_end": _window(w, 9)[1][:16],
            },
        ),
    ),
    ("GET", "/api/v1/work-orders/{number}/visits"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/visits")
    ),
    ("GET", "/api/v1/work-orders/{number}/engineer-suggestions"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/engineer-suggestions")
    ),
    ("GET", "/ui/visits/{visit_id}"): P("read", "A", lambda w, c, me: Req("GET", f"/ui/visits/{c.visit_id}")),
    ("POST", "/api/v1/visits/{visit_id}/check-in"): P(
        "visit.record", "A", lambda w, c, me: Req("POST", f"/api/v1/visits/{c.visit_id}/check-in")
    ),
    ("POST", "/ui/visits/{visit_id}/check-in"): P(
        "visit.record", "A", lambda w, c, me: Req("POST", f"/ui/visits/{c.visit_id}/check-in", form={})
    ),
    ("POST", "/api/v1/visits/{visit_id}/complete"): P(
        "visit.record",
        "A",
        lambda w, c, me: Req(
            "POST",
            f"/api/v1/visits/{c.visit_id}/complete",
            json={"diagnosis": "探测", "function_test_passed": True, "site_cleaned": True, "outcome": "revisit"},
        ),
    ),
    ("POST", "/ui/visits/{visit_id}/complete"): P(
        "visit.record",
        "A",
        lambda w, c, me: Req(
            "POST",
            f"/ui/visits/{c.visit_id}/complete",
            form={"diagnosis": "探测", "function_test": "passed", "site_cleaned": "yes", "outcome": "revisit"},
        ),
    ),
    ("POST", "/api/v1/visits/{visit_id}/cancel"): P(
        "dispatch",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/visits/{c.spare_visit_id}/cancel", json={"reason": "探测"}),
    ),
    ("GET", "/api/v1/engineers/{engineer_id}/visits"): P(
        "engineer.day",
        "list",
        lambda w, c, me: Req("GET", f"/api/v1/engineers/{w.a_engineer.id}/visits", params={"day": _day(w)}),
    ),
    ("GET", "/ui/visits/day"): P(
        "engineer.day",
        "list",
        lambda w, c, me: Req("GET", "/ui/visits/day", params={"engineer": str(w.a_engineer.id), "day": _day(w)}),
    ),
    # --- administration within the subtree --------------------------------------------------------
    ("POST", "/api/v1/teams"): P(
        "team.manage",
        "A",
        lambda w, c, me: Req(
            "POST", "/api/v1/teams", json={"organisation_id": w.a, "name": f"探测组{_r()}", "function": "quality"}
        ),
    ),
    ("POST", "/ui/admin/team"): P(
        "team.manage",
        "A",
        lambda w, c, me: Req(
            "POST", "/ui/admin/team", form={"organisation_id": str(w.a), "name": f"探测组{_r()}", "function": "quality"}
        ),
    ),
    ("GET", "/api/v1/users"): P("user.manage", "list", lambda w, c, me: Req("GET", "/api/v1/users")),
    ("POST", "/api/v1/users"): P(
        "user.manage",
        "A",
        lambda w, c, me: Req(
            "POST",
            "/api/v1/users",
            json={"username": f"probe{_r()}", "password": PASSWORD, "role": "agent", "organisation_id": w.a},
        ),
    ),
    ("PATCH", "/api/v1/users/{user_id}"): P(
        "user.manage",
        "A",
        lambda w, c, me: Req("PATCH", f"/api/v1/users/{w.a_agent.id}", json={"display_name": "甲坐席"}),
    ),
    ("POST", "/ui/admin/user"): P(
        "user.manage",
        "A",
        lambda w, c, me: Req(
            "POST",
            "/ui/admin/user",
            form={"username": f"probe{_r()}", "password": PASSWORD, "role": "agent", "organisation_id": str(w.a)},
        ),
    ),
    ("POST", "/ui/admin/user-change"): P(
        "user.manage",
        "A",
        lambda w, c, me: Req(
            "POST", "/ui/admin/user-change", form={"user_id": str(w.a_agent.id), "display_name": "甲坐席"}
        ),
    ),
    # Another user's account security: per the model (authz.require_manages_user), on A's agent.
    ("POST", "/api/v1/users/{user_id}/password-reset"): _account_of_a(
        "POST", "/api/v1/users/{user}/password-reset", json={}
    ),
    ("GET", "/api/v1/users/{user_id}/two-factor"): _account_of_a("GET", "/api/v1/users/{user}/two-factor"),
    # No second factor to reset: 409 for who may, after the checks.
    ("DELETE", "/api/v1/users/{user_id}/two-factor"): _account_of_a("DELETE", "/api/v1/users/{user}/two-factor"),
    ("GET", "/api/v1/users/{user_id}/sessions"): _account_of_a("GET", "/api/v1/users/{user}/sessions"),
    ("DELETE", "/api/v1/users/{user_id}/sessions"): _account_of_a("DELETE", "/api/v1/users/{user}/sessions"),
    ("GET", "/api/v1/users/{user_id}/tokens"): _account_of_a("GET", "/api/v1/users/{user}/tokens"),
    ("DELETE", "/api/v1/users/{user_id}/tokens/{token_id}"): _account_of_a(
        "DELETE", "/api/v1/users/{user}/tokens/{token}"
    ),
    ("GET", "/ui/users/security"): P(
        "account.manage",
        "A",
        lambda w, c, me: Req("GET", "/ui/users/security", params={"username": w.a_agent.username}),
    ),
    ("GET", "/ui/users/{user_id}/security"): _account_of_a("GET", "/ui/users/{user}/security"),
    ("POST", "/ui/users/{user_id}/password-reset"): _account_of_a("POST", "/ui/users/{user}/password-reset", form={}),
    ("POST", "/ui/users/{user_id}/two-factor-reset"): _account_of_a(
        "POST", "/ui/users/{user}/two-factor-reset", form={}
    ),
    ("POST", "/ui/users/{user_id}/sessions/end-all"): _account_of_a(
        "POST", "/ui/users/{user}/sessions/end-all", form={}
    ),
    ("POST", "/ui/users/{user_id}/tokens/{token_id}/revoke"): _account_of_a(
        "POST", "/ui/users/{user}/tokens/{token}/revoke", form={}
    ),
    ("PATCH", "/api/v1/agents/{user_id}"): P(
        "user.profile", "A", lambda w, c, me: Req("PATCH", f"/api/v1/agents/{w.a_agent.id}", json={"capacity": 15})
    ),
    ("POST", "/ui/admin/agent"): P(
        "user.profile",
        "A",
        lambda w, c, me: Req(
            "POST",
            "/ui/admin/agent",
            form={"user_id": str(w.a_agent.id), "team_id": str(w.a_reception), "capacity": "15", "on_shift": "1"},
        ),
    ),
    ("POST", "/ui/agents/{user_id}/shift"): P(
        "user.profile", "A", lambda w, c, me: Req("POST", f"/ui/agents/{w.a_agent.id}/shift", form={"on_shift": "1"})
    ),
    ("POST", "/api/v1/routing-rules"): P(
        "rule.manage",
        "A",
        lambda w, c, me: Req("POST", "/api/v1/routing-rules", json={**_rule(w), "name": f"探测规则{_r()}"}),
    ),
    ("PUT", "/api/v1/routing-rules/{rule_id}"): P(
        "rule.manage", "A", lambda w, c, me: Req("PUT", f"/api/v1/routing-rules/{w.rule_id}", json=_rule(w))
    ),
    ("POST", "/ui/admin/rule"): P(
        "rule.manage",
        "A",
        lambda w, c, me: Req(
            "POST",
            "/ui/admin/rule",
            form={
                "name": f"探测规则{_r()}",
                "position": "600",
                "team_id": str(w.a_field),
                "strategy": "least_loaded",
                "organisation_id": str(w.a),
                "regions": "无此区域",
            },
        ),
    ),
    ("POST", "/ui/admin/rule-active"): P(
        "rule.manage",
        "A",
        lambda w, c, me: Req("POST", "/ui/admin/rule-active", form={"rule_id": str(w.rule_id), "active": "1"}),
    ),
    # --- administration pages, dashboard, change log ------------------------------------------------
    **{
        ("GET", f"/ui/admin/{section}"): P(
            "user.manage" if section == "users" else "admin.read",
            "list",
            (lambda s: lambda w, c, me: Req("GET", f"/ui/admin/{s}"))(section),
        )
        for section in (
            "categories",
            "teams",
            "users",
            "agents",
            "routing",
            "sla",
            "templates",
            "tags",
            "macros",
            "changes",
        )
    },
    # --- the audit log: auditors and admins, within their subtree (all of it at the top) ----------
    ("GET", "/api/v1/audit"): P(
        "audit.read", "list", lambda w, c, me: Req("GET", "/api/v1/audit", params={"limit": "200"})
    ),
    ("GET", "/ui/audit"): P("audit.read", "list", lambda w, c, me: Req("GET", "/ui/audit")),
    ("GET", "/ui/dashboard"): P("admin.read", "list", lambda w, c, me: Req("GET", "/ui/dashboard")),
    ("GET", "/ui/dashboard/panel"): P("admin.read", "list", lambda w, c, me: Req("GET", "/ui/dashboard/panel")),
    # --- settings of every organisation ------------------------------------------------------------
    ("POST", "/api/v1/organisations"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST", "/api/v1/organisations", json={"name": f"探测单位{_r()}", "kind": "city", "parent_id": w.a}
        ),
    ),
    ("POST", "/api/v1/sla/policies"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST",
            "/api/v1/sla/policies",
            json={"name": f"探测策略{_r()}", "position": 900, "active": False, "targets": {"resolution": 1440}},
        ),
    ),
    ("PUT", "/api/v1/sla/policies/{policy_id}"): P(
        "settings", "none", lambda w, c, me: Req("PUT", f"/api/v1/sla/policies/{w.policy_id}", json=_policy(w))
    ),
    ("POST", "/api/v1/sla/calendars"): P(
        "settings", "none", lambda w, c, me: Req("POST", "/api/v1/sla/calendars", json={"name": f"cal-{_r()}"})
    ),
    ("PUT", "/api/v1/sla/calendars/{name}/days/{day}"): P(
        "settings",
        "none",
        lambda w, c, me: Req("PUT", "/api/v1/sla/calendars/office/days/2031-01-02", json={"is_workday": True}),
    ),
    ("PUT", "/api/v1/message-templates/{key}/{channel}/{locale}"): P(
        "settings",
        "none",
        lambda w, c, me: Req("PUT", "/api/v1/message-templates/acknowledged/sms/zh_CN", json={"body": _template()}),
    ),
    ("POST", "/ui/admin/category"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST", "/ui/admin/category", form={"code": f"general.p{_r()}", "label_zh": "探测", "label_en": "probe"}
        ),
    ),
    ("POST", "/ui/admin/category-active"): P(
        "settings",
        "none",
        lambda w, c, me: Req("POST", "/ui/admin/category-active", form={"code": "marketing.points", "active": "1"}),
    ),
    ("POST", "/ui/admin/policy"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST",
            "/ui/admin/policy",
            form={"policy_id": str(w.policy_id), "active": "1", "target_resolution": "1440"},
        ),
    ),
    ("POST", "/ui/admin/calendar-day"): P(
        "settings",
        "none",
        lambda w, c, me: Req("POST", "/ui/admin/calendar-day", form={"calendar": "office", "day": "2031-01-03"}),
    ),
    ("POST", "/ui/admin/template"): P(
        "settings",
        "none",
        lambda w, c, me: Req(
            "POST",
            "/ui/admin/template",
            form={"key": "acknowledged", "channel": "sms", "locale": "zh_CN", "body": _template()},
        ),
    ),
    # --- macros (issue #12, part 2): kept within the subtree, applied to work orders in scope ---------
    ("GET", "/api/v1/macros"): P("read", "list", lambda w, c, me: Req("GET", "/api/v1/macros"), outsider_absent=()),
    ("POST", "/api/v1/macros"): P(
        "macro.manage",
        "A",
        lambda w, c, me: Req(
            "POST", "/api/v1/macros", json={"organisation_id": w.a, "name": f"探测宏{_r()}", "priority": "P2"}
        ),
    ),
    ("PUT", "/api/v1/macros/{macro_id}"): P(
        "macro.manage",
        "A",
        lambda w, c, me: Req(
            "PUT", f"/api/v1/macros/{w.macro_id}", json={"organisation_id": w.a, "name": f"甲宏{w.tag}", "note": "x"}
        ),
    ),
    ("POST", "/ui/admin/macro"): P(
        "macro.manage",
        "A",
        lambda w, c, me: Req(
            "POST", "/ui/admin/macro", form={"organisation_id": str(w.a), "name": f"探测宏{_r()}", "priority": "P2"}
        ),
    ),
    ("POST", "/ui/admin/macro-active"): P(
        "macro.manage",
        "A",
        lambda w, c, me: Req("POST", "/ui/admin/macro-active", form={"macro_id": str(w.macro_id), "active": "1"}),
    ),
    ("POST", "/api/v1/work-orders/{number}/macro"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/macro", json={"macro_id": w.shared_macro_id}),
    ),
    ("POST", "/ui/work-orders/{number}/macro"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/macro", form={"macro_id": str(w.shared_macro_id)}),
    ),
    # --- tags, bulk actions and uploaded files (issue #12, parts 7 and 8) ----------------------------
    ("GET", "/api/v1/tags"): P("read", "list", lambda w, c, me: Req("GET", "/api/v1/tags")),
    ("POST", "/api/v1/tags"): P(
        "tag.manage",
        "A",
        lambda w, c, me: Req("POST", "/api/v1/tags", json={"organisation_id": w.a, "name": f"探测{_r()}"}),
    ),
    ("PATCH", "/api/v1/tags/{tag_id}"): P(
        "tag.manage", "A", lambda w, c, me: Req("PATCH", f"/api/v1/tags/{w.wo_tag_id}", json={"active": True})
    ),
    ("PUT", "/api/v1/tag-settings/{organisation_id}"): P(
        "tag.manage", "A", lambda w, c, me: Req("PUT", f"/api/v1/tag-settings/{w.a}", json={"free_tags": False})
    ),
    ("POST", "/ui/admin/tag"): P(
        "tag.manage",
        "A",
        lambda w, c, me: Req("POST", "/ui/admin/tag", form={"organisation_id": str(w.a), "name": f"探测{_r()}"}),
    ),
    ("POST", "/ui/admin/tag-active"): P(
        "tag.manage",
        "A",
        lambda w, c, me: Req("POST", "/ui/admin/tag-active", form={"tag_id": str(w.wo_tag_id), "active": "1"}),
    ),
    ("POST", "/ui/admin/tag-setting"): P(
        "tag.manage",
        "A",
        lambda w, c, me: Req("POST", "/ui/admin/tag-setting", form={"organisation_id": str(w.a), "free": "0"}),
    ),
    ("GET", "/api/v1/work-orders/{number}/tags"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/tags")
    ),
    ("POST", "/api/v1/work-orders/{number}/tags"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/tags", json={"add": [f"甲工单标签{w.tag}"]}),
    ),
    ("POST", "/ui/work-orders/{number}/tags"): P(
        "transition",
        "A",
        lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/tags", form={"add": f"甲工单标签{w.tag}"}),
    ),
    ("POST", "/api/v1/work-orders/bulk"): P(
        "transition",
        "list",
        lambda w, c, me: Req(
            "POST",
            "/api/v1/work-orders/bulk",
            json={"action": "tag", "items": [{"number": c.number}], "params": {"add": [f"甲工单标签{w.tag}"]}},
        ),
    ),
    ("POST", "/ui/work-orders/bulk"): P(
        "transition",
        "list",
        lambda w, c, me: Req(
            "POST", "/ui/work-orders/bulk", form={"action": "tag", "items": c.number, "tag": f"甲工单标签{w.tag}"}
        ),
    ),
    ("POST", "/api/v1/work-orders/{number}/attachments"): P(
        "note", "A", lambda w, c, me: Req("POST", f"/api/v1/work-orders/{c.number}/attachments", form={})
    ),
    ("POST", "/ui/work-orders/{number}/attachments"): P(
        "note", "A", lambda w, c, me: Req("POST", f"/ui/work-orders/{c.number}/attachments", form={})
    ),
    ("GET", "/api/v1/work-orders/{number}/attachments"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/attachments")
    ),
    ("GET", "/api/v1/work-orders/{number}/attachments/{file_id}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/api/v1/work-orders/{c.number}/attachments/{c.file_id}")
    ),
    ("GET", "/ui/work-orders/{number}/attachments/{file_id}"): P(
        "read", "A", lambda w, c, me: Req("GET", f"/ui/work-orders/{c.number}/attachments/{c.file_id}")
    ),
    ("POST", "/portal/orders/{number}/attachments"): P(
        "public", "none", lambda w, c, me: Req("POST", f"/portal/orders/{c.number}/attachments", form={})
    ),
    ("GET", "/portal/orders/{number}/attachments/{file_id}"): P(
        "public", "none", lambda w, c, me: Req("GET", f"/portal/orders/{c.number}/attachments/{c.file_id}")
    ),
}
