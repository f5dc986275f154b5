"""Storage of tags: the organisations' lists, whether free tags are allowed, and the tags of each
work order (by name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from kefu.adapters.db.tables import tag_settings, tags, work_order_tags
from kefu.domain.tags import Tag


def _tag(row: Any) -> Tag:
    return Tag(
        id=row.id, organisation_id=row.organisation_id, name=row.name, created_at=row.created_at, active=row.active
    )


class SqlTagRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_organisations(self, organisation_ids: list[int] | None, *, include_inactive: bool = False) -> list[Tag]:
        query = select(tags).order_by(tags.c.name, tags.c.id)
        if organisation_ids is not None:
            query = query.where(tags.c.organisation_id.in_(sorted(organisation_ids)))
        if not include_inactive:
            query = query.where(tags.c.active.is_(True))
        return [_tag(r) for r in self.conn.execute(query)]

    def get(self, tag_id: int) -> Tag | None:
        row = self.conn.execute(select(tags).where(tags.c.id == tag_id)).first()
        return _tag(row) if row else None

    def add(self, tag: Tag) -> Tag:
        new_id = self.conn.execute(
            insert(tags)
            .values(organisation_id=tag.organisation_id, name=tag.name, active=tag.active, created_at=tag.created_at)
            .returning(tags.c.id)
        ).scalar_one()
        return Tag(int(new_id), tag.organisation_id, tag.name, tag.created_at, tag.active)

    def set_active(self, tag_id: int, active: bool) -> None:
        self.conn.execute(update(tags).where(tags.c.id == tag_id).values(active=active))

    def free_tags(self) -> dict[int, bool]:
        return {r.organisation_id: bool(r.free_tags) for r in self.conn.execute(select(tag_settings))}

    def set_free_tags(self, organisation_id: int, allowed: bool) -> None:
        done = self.conn.execute(
            update(tag_settings).where(tag_settings.c.organisation_id == organisation_id).values(free_tags=allowed)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(tag_settings).values(organisation_id=organisation_id, free_tags=allowed))

    def of_work_order(self, work_order_id: int) -> list[str]:
        return self.of_work_orders([work_order_id]).get(work_order_id, [])

    def of_work_orders(self, work_order_ids: list[int]) -> dict[int, list[str]]:
        if not work_order_ids:
            return {}
        t = work_order_tags.c
        found: dict[int, list[str]] = {}
        rows = self.conn.execute(
            select(t.work_order_id, t.tag).where(t.work_order_id.in_(sorted(set(work_order_ids)))).order_by(t.tag)
        )
        for row in rows:
            found.setdefault(row.work_order_id, []).append(row.tag)
        return found

    def add_to(self, work_order_id: int, names: list[str], *, actor_id: int, at: datetime) -> None:
        if names:
            self.conn.execute(
                insert(work_order_tags),
                [{"work_order_id": work_order_id, "tag": n, "added_at": at, "added_by": actor_id} for n in names],
            )

    def remove_from(self, work_order_id: int, names: list[str]) -> None:
        if names:
            t = work_order_tags.c
            self.conn.execute(delete(work_order_tags).where(t.work_order_id == work_order_id, t.tag.in_(names)))
