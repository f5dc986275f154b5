"""Storage of the work-order categories (the category tree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from kefu.adapters.db.tables import categories
from kefu.domain.categories import Category

_CATEGORY_BY_CODE = select(categories).where(categories.c.code == bindparam("code"))


class SqlCategoryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _category(row: Any) -> Category:
        return Category(code=row.code, label_zh=row.label_zh, label_en=row.label_en, active=row.active, sort=row.sort)

    def get(self, code: str) -> Category | None:
        row = self.conn.execute(_CATEGORY_BY_CODE, {"code": code}).first()
        return self._category(row) if row else None

    def all(self) -> list[Category]:
        rows = self.conn.execute(select(categories).order_by(categories.c.sort, categories.c.code))
        return [self._category(row) for row in rows]

    def add(self, category: Category) -> None:
        self.conn.execute(
            insert(categories).values(
                code=category.code,
                label_zh=category.label_zh,
                label_en=category.label_en,
                active=category.active,
                sort=category.sort,
            )
        )

    def set_active(self, code: str, active: bool) -> None:
        self.conn.execute(update(categories).where(categories.c.code == code).values(active=active))
