"""ARCHITECTURE.md stays true: the "where does X live" table names files that exist, and every module
well past ~400 lines is one the map explains."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "kefu"
MAP = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
#: The table's columns after the feature name, and where their files live.
COLUMNS = ("domain", "services", "adapters/db", "api", "web")


def _section(title: str) -> str:
    start = MAP.index(f"## {title}")
    end = MAP.find("\n## ", start + 1)
    return MAP[start : end if end != -1 else None]


def test_the_where_table_names_files_that_exist() -> None:
    named: list[Path] = []
    for line in _section("Where does X live").splitlines():
        cells = line.split("|")[1:-1]
        if len(cells) != 1 + len(COLUMNS) or cells[0].strip() in ("feature", "---"):
            continue
        for folder, cell in zip(COLUMNS, cells[1:], strict=True):
            for name in re.findall(r"`([\w/]+\.(?:py|html))", cell):
                candidates = [SRC / folder / name, SRC / name, SRC / "web" / "templates" / name]
                candidates += [SRC / "adapters" / "channels" / name]
                assert any(c.is_file() for c in candidates), f"ARCHITECTURE.md names {folder}: {name}, which is gone"
                named.append(next(c for c in candidates if c.is_file()))
    assert len(named) > 40  # the table was read, not skipped


def test_long_modules_are_the_ones_the_map_explains() -> None:
    explained = _section("Where does X live")
    long = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts and len(p.read_text(encoding="utf-8").splitlines()) > 450
    ]
    unexplained = [name for name in long if f"`{name}`" not in explained]
    assert not unexplained, f"over ~400 lines without a word in ARCHITECTURE.md: {unexplained}"
