"""Storage of the search index: the segmented text of each work order (search_parts), joined per
work order into search_documents, which the full-text index covers (SQLite: the FTS5 table
search_fts, kept in step by triggers; PostgreSQL: the `vector` column with its GIN index).

Every write goes through the connection of the unit of work that changes the text, so the index
changes in the same transaction: the work-order repository calls `index_work_order` and
`index_notes` when it stores a work order or its events, the channel repository `index_contact` when
an inbound message is tied to a work order. Another kind of text is one call of `put` (with a kind
and a ref of its own) where that text is stored; see ARCHITECTURE.md."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    bindparam,
    cast,
    delete,
    func,
    inspect,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters import segmentation as seg
from kefu.adapters.db.tables import (
    contacts,
    customers,
    search_documents,
    search_parts,
    work_order_events,
    work_order_files,
    work_order_tags,
    work_orders,
)
from kefu.adapters.db.workorder_queries import conditions
from kefu.domain.events import WorkOrderEvent
from kefu.domain.workorders import WorkOrder
from kefu.services.ports import SearchHit as Hit
from kefu.services.ports import WorkOrderFilter

#: On PostgreSQL the document keeps only its vector (the words are in search_parts): narrow rows
#: make the scans of a common word cheap. SQLite's FTS5 table reads the words from the document.
_NO_TEXT = {"main": "", "more": "", "internal": ""}
#: A word found in very many work orders is ranked among the newest this many matches (within the
#: filters and the scope): ranking all of them would cost time in proportion to the matches.
RANK_WINDOW = 2000

#: Where a part counts (see tables.search_parts).
MAIN, MORE, INTERNAL = "main", "more", "internal"
FIELDS = (MAIN, MORE, INTERNAL)
#: The weight of each field in the PostgreSQL vector; SQLite's bm25 gets the same order.
_PG_WEIGHTS = {MAIN: "A", MORE: "B", INTERNAL: "C"}
_FTS_MATCH = (
    "SELECT rowid AS work_order_id, bm25(search_fts, 4.0, 1.0, 1.0) AS score FROM search_fts WHERE search_fts MATCH :q"
)


def _note_field(visibility: str | None) -> str:
    return MORE if visibility == "customer" else INTERNAL


def _own_words(
    number: str, name: str | None, phone: str | None, title: str, description: str, device: str | None
) -> list[str]:
    words = seg.number_words(number) + seg.name_words(name) + seg.phone_words(phone)
    for value in (title, description, device):
        words += seg.text_words(value)
    return words


def _contact_text(subject: str | None, body: str) -> str:
    return f"{subject or ''}\n{body}"


def _part(work_order_id: int, kind: str, ref: str, field: str, words: list[str]) -> dict[str, Any]:
    return {"work_order_id": work_order_id, "kind": kind, "ref": ref, "field": field, "words": " ".join(words)}


def _pg_vector(texts: dict[str, Any]) -> Any:
    """The weighted tsvector of a document's fields (values or bind parameters)."""
    vector: Any = None
    for f in FIELDS:
        words = func.to_tsvector(literal_column("'simple'::regconfig"), texts[f])
        part = func.setweight(words, literal_column(f"'{_PG_WEIGHTS[f]}'"))
        vector = part if vector is None else vector.op("||")(part)
    return vector


def _upsert(conn: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    changed = {k: v for k, v in values.items() if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed))


class SqlSearchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- writing ------------------------------------------------------------------------------

    def put(self, work_order_id: int, kind: str, ref: str, text_: str, *, field: str = MORE) -> None:
        """Store (or replace) one piece of a work order's text and bring its document up to date."""
        self.put_words(work_order_id, kind, ref, seg.text_words(text_), field=field)

    def put_words(self, work_order_id: int, kind: str, ref: str, words: list[str], *, field: str) -> None:
        if self._write_part(work_order_id, kind, ref, words, field=field):
            self.rebuild_document(work_order_id)

    def _write_part(self, work_order_id: int, kind: str, ref: str, words: list[str], *, field: str) -> bool:
        """Store one piece; whether it changed (the document is then rebuilt by the caller)."""
        assert field in FIELDS
        joined = " ".join(words)
        p = search_parts.c
        where = (p.work_order_id == work_order_id, p.kind == kind, p.ref == ref)
        stored = self.conn.execute(select(p.words, p.field).where(*where)).first()
        if stored is not None and stored.words == joined and stored.field == field:
            return False  # unchanged: nothing to rewrite
        if stored is None:
            self.conn.execute(
                search_parts.insert().values(work_order_id=work_order_id, kind=kind, ref=ref, field=field, words=joined)
            )
        else:
            self.conn.execute(update(search_parts).where(*where).values(field=field, words=joined))
        return True

    def remove(self, work_order_id: int, kind: str, ref: str) -> None:
        p = search_parts.c
        self.conn.execute(delete(search_parts).where(p.work_order_id == work_order_id, p.kind == kind, p.ref == ref))
        self.rebuild_document(work_order_id)

    def rebuild_document(self, work_order_id: int) -> None:
        p = search_parts.c
        rows = self.conn.execute(
            select(p.field, p.words).where(p.work_order_id == work_order_id).order_by(p.kind, p.ref)
        ).all()
        texts = {f: " ".join(r.words for r in rows if r.field == f and r.words) for f in FIELDS}
        values: dict[str, Any] = {"work_order_id": work_order_id, **texts}
        if self.conn.dialect.name == "postgresql":
            values = {"work_order_id": work_order_id, **_NO_TEXT, "vector": _pg_vector(texts)}
        _upsert(self.conn, search_documents, values, ["work_order_id"])

    def index_work_order(self, wo: WorkOrder) -> None:
        """The work order's own text: number, customer (name, phone), title, description, device."""
        assert wo.id is not None
        customer = self.conn.execute(
            select(customers.c.name, customers.c.phone).where(customers.c.id == wo.customer_id)
        ).first()
        name, phone = (customer.name, customer.phone) if customer is not None else (None, None)
        words = _own_words(wo.number, name, phone, wo.title, wo.description, wo.device)
        self.put_words(wo.id, "work_order", "", words, field=MAIN)

    def index_notes(self, work_order_id: int, events: Iterable[tuple[int, WorkOrderEvent]]) -> None:
        """The text of new events (notes, reasons given with a move), each with its place in the chain."""
        changed = False
        for seq, event in events:
            if event.note:
                words = seg.text_words(event.note)
                changed |= self._write_part(work_order_id, "note", str(seq), words, field=_note_field(event.visibility))
        if changed:  # one rebuild for all of this change's notes (this runs on every save)
            self.rebuild_document(work_order_id)

    def index_contact(self, contact_id: int) -> None:
        """An inbound message tied to a work order (its subject and text)."""
        c = contacts.c
        row = self.conn.execute(
            select(c.work_order_id, c.subject, c.body, c.direction).where(c.id == contact_id)
        ).first()
        if row is None or row.work_order_id is None or row.direction != "in":
            return
        self.put(int(row.work_order_id), "contact", str(contact_id), _contact_text(row.subject, row.body))

    def index_customer(self, customer_id: int) -> None:
        """After a customer's name or phone changed: the documents of their work orders."""
        ids = self.conn.execute(select(work_orders.c.id).where(work_orders.c.customer_id == customer_id)).scalars()
        if found := [int(i) for i in ids]:
            self._reindex_ids(found, keep_other_kinds=True)

    def reindex(self, after_id: int, limit: int) -> tuple[int, int | None]:
        """Index again (from what is stored) up to `limit` work orders after id `after_id`: how many,
        and the last id done (None when there were none left). Batched: a handful of statements
        per batch, whatever its size."""
        ids = [
            int(i)
            for i in self.conn.execute(
                select(work_orders.c.id).where(work_orders.c.id > after_id).order_by(work_orders.c.id).limit(limit)
            ).scalars()
        ]
        if not ids:
            return 0, None
        self._reindex_ids(ids, keep_other_kinds=False)
        return len(ids), ids[-1]

    def _reindex_ids(self, ids: list[int], *, keep_other_kinds: bool) -> None:
        """The parts this module knows (the work order, notes, inbound messages, tags, files' names) of these work
        orders, from what is stored; `keep_other_kinds`: parts of other kinds stay (a rebuild from
        scratch drops them: their use case puts them again)."""
        w, cu, e, c = work_orders.c, customers.c, work_order_events.c, contacts.c
        parts: list[dict[str, Any]] = []
        own = self.conn.execute(
            select(w.id, w.number, w.title, w.description, w.device, cu.name, cu.phone)
            .outerjoin(customers, cu.id == w.customer_id)
            .where(w.id.in_(ids))
        )
        for r in own:
            words = _own_words(r.number, r.name, r.phone, r.title, r.description, r.device)
            parts.append(_part(r.id, "work_order", "", MAIN, words))
        notes = self.conn.execute(
            select(e.work_order_id, e.seq, e.note, e.visibility).where(e.work_order_id.in_(ids), e.note.is_not(None))
        )
        for n in notes:
            parts.append(_part(n.work_order_id, "note", str(n.seq), _note_field(n.visibility), seg.text_words(n.note)))
        inbound = self.conn.execute(
            select(c.id, c.work_order_id, c.subject, c.body).where(c.work_order_id.in_(ids), c.direction == "in")
        )
        for m in inbound:
            words = seg.text_words(_contact_text(m.subject, m.body))
            parts.append(_part(m.work_order_id, "contact", str(m.id), MORE, words))
        parts += self._tag_and_file_parts(ids)
        p = search_parts.c
        known = p.kind.in_(("work_order", "note", "contact", "tags", "file")) if keep_other_kinds else None
        self.conn.execute(delete(search_parts).where(p.work_order_id.in_(ids), *([known] if known is not None else [])))
        if parts:
            self.conn.execute(search_parts.insert(), parts)
        if keep_other_kinds:
            for work_order_id in ids:
                self.rebuild_document(work_order_id)
            return
        texts: dict[int, dict[str, list[str]]] = {i: {f: [] for f in FIELDS} for i in ids}
        for part in sorted(parts, key=lambda x: (x["work_order_id"], x["kind"], x["ref"])):
            if part["words"]:
                texts[part["work_order_id"]][part["field"]].append(part["words"])
        self.conn.execute(delete(search_documents).where(search_documents.c.work_order_id.in_(ids)))
        rows = [{"b_id": i, **{f"b_{f}": " ".join(t[f]) for f in FIELDS}} for i, t in texts.items()]
        values: dict[str, Any] = {"work_order_id": bindparam("b_id"), **{f: bindparam(f"b_{f}") for f in FIELDS}}
        if self.conn.dialect.name == "postgresql":
            values = {**values, **_NO_TEXT, "vector": _pg_vector({f: bindparam(f"b_{f}") for f in FIELDS})}
        self.conn.execute(search_documents.insert().values(values), rows)

    def _tag_and_file_parts(self, ids: list[int]) -> list[dict[str, Any]]:
        """The tags and the files' names of these work orders. Migration 0011 builds the index with
        this module before the tables of tags and files exist (a later revision): none then."""
        if not inspect(self.conn).has_table(work_order_tags.name):
            return []
        t, f = work_order_tags.c, work_order_files.c
        parts: list[dict[str, Any]] = []
        tagged: dict[int, list[str]] = {}
        for tag in self.conn.execute(select(t.work_order_id, t.tag).where(t.work_order_id.in_(ids)).order_by(t.tag)):
            tagged.setdefault(tag.work_order_id, []).append(tag.tag)
        for work_order_id, names in tagged.items():
            parts.append(_part(work_order_id, "tags", "", MORE, seg.text_words(" ".join(names))))
        files = self.conn.execute(
            select(f.id, f.work_order_id, f.filename, f.customer_visible).where(f.work_order_id.in_(ids))
        )
        for file in files:
            field = MORE if file.customer_visible else INTERNAL
            parts.append(_part(file.work_order_id, "file", str(file.id), field, seg.text_words(file.filename)))
        return parts

    # --- reading ------------------------------------------------------------------------------

    def find(self, q: str, flt: WorkOrderFilter, *, internal: bool, limit: int, offset: int) -> list[Hit]:
        """Work orders whose text has every word (a word may also be part of the number, or the
        phone's last digits), within the filter and its data scope; best first, then newest.
        Without `internal` (vendors and partners): internal notes are not searched, and a phone
        number only whole (as they search customers)."""
        words = seg.query_words(q)
        if not words:
            return []
        if self.conn.dialect.name == "postgresql":
            return self._find_pg(words, flt, internal=internal, limit=limit, offset=offset)
        return self._find_sqlite(words, flt, internal=internal, limit=limit, offset=offset)

    def _find_sqlite(
        self, words: list[str], flt: WorkOrderFilter, *, internal: bool, limit: int, offset: int
    ) -> list[Hit]:
        terms = []
        for word in words:
            options = [f'"{word}"']
            if seg.looks_like_number(word):
                options.append(f'"{seg.NUMBER_TAG}{word}"*')
            if seg.looks_like_phone(word) and (internal or len(word) >= seg.WHOLE_PHONE):
                options.append(f'"{seg.PHONE_TAG}{word}"')
            terms.append("(" + " OR ".join(options) + ")")
        expression = " AND ".join(terms)
        if not internal:
            expression = "{main more} : (" + expression + ")"
        hits = text(_FTS_MATCH).bindparams(q=expression).columns(work_order_id=BigInteger, score=Float).subquery("hits")
        query = (
            select(work_orders.c.id, hits.c.score)
            .join(hits, hits.c.work_order_id == work_orders.c.id)
            .where(*conditions(flt))
            .order_by(hits.c.score, work_orders.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [Hit(int(r.id), -float(r.score)) for r in self.conn.execute(query)]

    def _find_pg(self, words: list[str], flt: WorkOrderFilter, *, internal: bool, limit: int, offset: int) -> list[Hit]:
        weights = "" if internal else "AB"
        terms = []
        for word in words:  # plain letters and digits only (segmentation): nothing to escape
            options = [f"'{word}':{weights}" if weights else f"'{word}'"]
            if seg.looks_like_number(word):
                options.append(f"'{seg.NUMBER_TAG}{word}':*{weights}")
            if seg.looks_like_phone(word) and (internal or len(word) >= seg.WHOLE_PHONE):
                options.append(f"'{seg.PHONE_TAG}{word}'" + (f":{weights}" if weights else ""))
            terms.append("(" + " | ".join(options) + ")")
        tsquery = func.to_tsquery(literal("simple").cast(postgresql.REGCONFIG), bindparam("q", " & ".join(terms)))
        d = search_documents.c
        newest = (
            select(d.work_order_id.label("id"), d.vector)
            .join(work_orders, d.work_order_id == work_orders.c.id)
            .where(d.vector.op("@@")(tsquery), *conditions(flt))
            .order_by(d.work_order_id.desc())
            .limit(RANK_WINDOW)
            .subquery("newest")
        )
        rank = cast(func.ts_rank(newest.c.vector, tsquery), Float(precision=53)).label("score")
        query = select(newest.c.id, rank).order_by(rank.desc(), newest.c.id.desc()).limit(limit).offset(offset)
        return [Hit(int(r.id), float(r.score)) for r in self.conn.execute(query)]
