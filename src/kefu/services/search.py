"""Search (issue #12 part 5): one box for a work-order number (whole or part), a customer's phone
(whole or last digits), a customer's name, and the words of titles, descriptions, notes and inbound
messages (Chinese segmented by jieba); filters combine with the words. Read within the actor's data
scope like the work-order list, best match first, customers masked like every list.

The index itself is kept in step by the repositories that store the text (kefu.adapters.db.
search_repository), in the transaction that changes the text; `reindex` rebuilds it (`kefu search
reindex`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from kefu.domain.categories import validate_code
from kefu.domain.customers import Customer
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.workorders import WorkOrder
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import WorkOrderFilter

MAX_QUERY = 100
MAX_PAGE = 100
#: Ranked results are paged by position; past this many, narrow the search instead.
MAX_OFFSET = 1000
REINDEX_BATCH = 500


@dataclass(frozen=True)
class SearchResult:
    work_order: WorkOrder
    customer: Customer | None  # masked
    score: float  # higher is better


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchResult]
    next_offset: int | None


def checked_query(q: str | None) -> str:
    """The query as searched, or ValidationFailed naming `q`."""
    q = (q or "").strip()
    if not q:
        raise ValidationFailed("Type a work-order number, a phone number, a name or words to search.", field="q")
    if len(q) > MAX_QUERY:
        raise ValidationFailed("The search is at most {max} characters long.", field="q", max=MAX_QUERY)
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in q):
        raise ValidationFailed("The search contains characters that cannot be searched.", field="q")
    if not any(ch.isalnum() for ch in q):
        raise ValidationFailed("Type a work-order number, a phone number, a name or words to search.", field="q")
    return q


def search(
    ctx: Context, actor: User, q: str | None, flt: WorkOrderFilter, *, limit: int = 20, offset: int = 0
) -> SearchPage:
    """Work orders matching `q` and the filter, best first, within the actor's data scope."""
    require(actor, Permission.READ)
    words = checked_query(q)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed("limit must be between 1 and {max}.", field="limit", max=MAX_PAGE)
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(
            "Narrow the search: only the first {max} results are shown.", field="cursor", max=MAX_OFFSET
        )
    if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
        raise ValidationFailed("created_from lies after created_to.", field="created_from")
    if flt.category is not None:
        validate_code(flt.category)
    with ctx.uow() as uow:
        visible = scope.visible_to(ctx, uow, actor)
        internal = not scope.external(ctx, uow, actor)
        hits = uow.search.find(
            words, replace(flt, visible_to=visible), internal=internal, limit=limit + 1, offset=offset
        )
        more = len(hits) > limit
        hits = hits[:limit]
        found = uow.work_orders.get_many_by_id([h.work_order_id for h in hits], visible_to=visible)
        orders = scope.shown_work_orders(ctx, uow, actor, [found[h.work_order_id] for h in hits])
        customers = uow.customers.get_many(sorted({w.customer_id for w in orders}))
    results = [
        SearchResult(w, customers[w.customer_id].masked() if w.customer_id in customers else None, h.score)
        for w, h in zip(orders, hits, strict=True)
    ]
    return SearchPage(results, offset + limit if more and offset + limit <= MAX_OFFSET else None)


def reindex(
    ctx: Context, *, after_id: int = 0, batch: int = REINDEX_BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild the search documents of every work order (after id `after_id`) from what is stored
    (after an upgrade, a bulk load, or to repair): one short transaction per batch, so kefu keeps
    running meanwhile. How many. `progress` is told how many each batch did."""
    done, last = 0, after_id
    while True:
        with ctx.uow(write=True) as uow:
            count, after = uow.search.reindex(last, batch)
            uow.commit()
        done += count
        if after is None:
            return done
        last = after
        if progress is not None:
            progress(count)
