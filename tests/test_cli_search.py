"""`kefu search reindex`: the search index rebuilt from what is stored (demo data, an upgrade)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import kefu


def test_reindex_indexes_every_work_order(tmp_path: Path) -> None:
    assert kefu(tmp_path, "db", "upgrade").returncode == 0
    loaded = kefu(tmp_path, "demo-data", "--customers", "20", "--work-orders", "30")
    assert loaded.returncode == 0, loaded.stderr
    db = sqlite3.connect(tmp_path / "cli.db")
    assert db.execute("SELECT count(*) FROM search_documents").fetchone() == (30,)  # the loader indexes them
    db.execute("DELETE FROM search_documents")
    db.execute("DELETE FROM search_parts")
    db.commit()
    r = kefu(tmp_path, "search", "reindex", "--batch", "7")
    assert r.returncode == 0, r.stderr
    assert "indexed 30 work orders" in r.stdout
    assert db.execute("SELECT count(*) FROM search_documents").fetchone() == (30,)
    number = db.execute("SELECT number FROM work_orders ORDER BY id LIMIT 1").fetchone()[0]
    hits = db.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (f'"xn{number[-6:].lower()}"*',))
    assert hits.fetchall()


def test_the_migration_indexes_the_work_orders_already_there(tmp_path: Path) -> None:
    from kefu.adapters.db.engine import make_engine
    from kefu.adapters.db.migrate import downgrade, upgrade

    assert kefu(tmp_path, "db", "upgrade").returncode == 0
    assert kefu(tmp_path, "demo-data", "--customers", "5", "--work-orders", "12").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    downgrade(engine, "0010")  # as before search existed
    upgrade(engine)
    engine.dispose()
    db = sqlite3.connect(tmp_path / "cli.db")
    assert db.execute("SELECT count(*) FROM search_documents").fetchone() == (12,)
    number = db.execute("SELECT number FROM work_orders ORDER BY id DESC LIMIT 1").fetchone()[0]
    hits = db.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (f'"xn{number.lower()}"',))
    assert hits.fetchone() == (1,)
