"""Storage of the files uploaded to work orders (the contents beside their description)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, insert, select

from kefu.adapters.db.tables import work_order_files
from kefu.domain.attachments import WorkOrderFile

_DESCRIPTION = [c for c in work_order_files.c if c.name != "content"]


def _file(row: Any, content: bytes | None = None) -> WorkOrderFile:
    return WorkOrderFile(
        id=row.id,
        work_order_id=row.work_order_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        uploaded_at=row.uploaded_at,
        uploaded_by=row.uploaded_by,
        by_customer=row.by_customer,
        customer_visible=row.customer_visible,
        sha256=row.sha256,
        content=content,
    )


class SqlFileRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, file: WorkOrderFile, content: bytes) -> WorkOrderFile:
        digest = hashlib.sha256(content).hexdigest()
        new_id = self.conn.execute(
            insert(work_order_files)
            .values(
                work_order_id=file.work_order_id,
                filename=file.filename,
                content_type=file.content_type,
                size=len(content),
                sha256=digest,
                uploaded_at=file.uploaded_at,
                uploaded_by=file.uploaded_by,
                by_customer=file.by_customer,
                customer_visible=file.customer_visible,
                content=content,
            )
            .returning(work_order_files.c.id)
        ).scalar_one()
        return replace(file, id=int(new_id), size=len(content), sha256=digest)

    def of_work_order(self, work_order_id: int) -> list[WorkOrderFile]:
        f = work_order_files.c
        rows = self.conn.execute(select(*_DESCRIPTION).where(f.work_order_id == work_order_id).order_by(f.id))
        return [_file(r) for r in rows]

    def get(self, file_id: int) -> WorkOrderFile | None:
        row = self.conn.execute(select(work_order_files).where(work_order_files.c.id == file_id)).first()
        return _file(row, bytes(row.content)) if row else None
