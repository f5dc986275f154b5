"""Correcting a work order's registration (R7): category, type, severity, title, description, fault
time and place, device, or the customer it is for. One transaction, like every use case of
`commands`; the time limits and routing follow a reclassification."""

from __future__ import annotations

from kefu.domain.checklists import new_checklist
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.workorders import POLICY_FIELDS, WorkOrder
from kefu.services.access import authz, scope
from kefu.services.changes import changing
from kefu.services.context import Context
from kefu.services.dispatch import routing
from kefu.services.sla import clocks as sla
from kefu.services.workorders.commands import active_category, customer_profile


def edit_work_order(
    ctx: Context,
    actor: User,
    number: str,
    changes: dict[str, object],
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Correct what was registered (R7): category, type, severity, title, description, fault time
    and place, device, or the customer it is for (one of the actor's scope). Each changed field is an
    `edited` event; when what rules look at changed, the time limits follow the policy that now
    applies (`clocks.reevaluate`) and the routing rules are asked again (`routing.route_corrected`).
    A category with a checklist and none yet gets its checklist (R17)."""
    with changing(ctx, actor, Permission.WORKORDER_TRANSITION, number, expected_version) as (uow, wo, now):
        authz.require_correcting(ctx, uow, actor)
        changes = dict(changes)
        if isinstance(code := changes.get("category"), str) and code != wo.category:
            changes["category"] = active_category(ctx, uow, code).code
        customer_id = changes.get("customer_id")
        if isinstance(customer_id, int) and customer_id != wo.customer_id:
            customer = scope.load_own_customer(ctx, uow, actor, customer_id)
            if customer.merged_into_id is not None:
                raise ValidationFailed(
                    "Customer {id} was merged into customer {into}; pick that one.",
                    field="customer_id",
                    id=customer_id,
                    into=customer.merged_into_id,
                )
        assert wo.id is not None
        dispatched = bool(uow.dispatches.of_work_order(wo.id))
        events = wo.correct(changes, actor_id=actor.id or 0, at=now, reason=reason, dispatched=dispatched)
        if POLICY_FIELDS & {e.data["field"] for e in events}:
            profile = customer_profile(uow, wo.customer_id, now.astimezone(ctx.timezone).date())
            sla.reevaluate(ctx, uow, wo, profile, now, reason=(reason or "").strip() or None)
            routing.route_corrected(ctx, uow, actor, wo, profile, now)
        if (steps := new_checklist(wo.category)) and not uow.checklists.steps(wo.id):
            uow.checklists.add(wo.id, steps)
    return scope.as_seen_by(ctx, actor, wo)
