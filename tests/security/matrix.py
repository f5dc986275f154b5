"""The role x organisation-kind x action matrix, read from its one place: the table under "## Matrix"
in docs/SECURITY.md. The test and the page cannot disagree: the test takes its expectations from the
page."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kefu.domain.org import Role
from tests.support import ROOT

PAGE = ROOT / "docs" / "SECURITY.md"
ROLES = {
    "AG": Role.AGENT,
    "TS": Role.TECH_SUPPORT,
    "FE": Role.FIELD_ENGINEER,
    "QA": Role.QUALITY,
    "SU": Role.SUPERVISOR,
    "AD": Role.ADMIN,
    "AU": Role.AUDITOR,
}
REACHES = frozenset({"scope", "subtree", "receiver", "installation", "own", "staff", "anyone"})


class Kind(StrEnum):
    """Where in the tree the acting user's organisation is (the matrix's columns)."""

    TOP = "top"
    OPERATOR = "operator"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Action:
    key: str
    reach: str
    roles: dict[Kind, frozenset[Role]]

    def allows(self, role: Role, kind: Kind) -> bool:
        return role in self.roles[kind]


def _roles(cell: str) -> frozenset[Role]:
    cell = cell.strip()
    if cell == "all":
        return frozenset(Role)
    if cell in ("—", "-", ""):
        return frozenset()
    return frozenset(ROLES[abbreviation] for abbreviation in cell.split())


def read_matrix() -> dict[str, Action]:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("\n## Matrix")
    end = text.find("\n## ", start + 1)
    actions: dict[str, Action] = {}
    for line in text[start : end if end != -1 else None].splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, f"a matrix row has six cells: {line}"
        key, reach = cells[0].strip("`"), cells[2].strip("`")
        assert reach in REACHES, f"unknown reach {reach!r} in {line}"
        assert key not in actions, f"action {key} twice in the matrix"
        actions[key] = Action(
            key, reach, {Kind.TOP: _roles(cells[3]), Kind.OPERATOR: _roles(cells[4]), Kind.EXTERNAL: _roles(cells[5])}
        )
    return actions


MATRIX = read_matrix()
