"""List the msgids the zh_CN catalogue has no Chinese for (exit 1 if any). The `.po` files are the only
source of translations: translate in src/kefu/translations/zh_CN/LC_MESSAGES/messages.po itself (any
PO editor works); `make messages` re-extracts the msgids and runs this check."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[1] / "src/kefu/translations/zh_CN/LC_MESSAGES/messages.po"

with PO.open("rb") as fh:
    catalog = read_po(fh, locale="zh_CN")
missing = [m.id for m in catalog if m.id and (not m.string or "fuzzy" in m.flags)]
for msgid in missing:
    print("no Chinese yet:", msgid)
sys.exit(1 if missing else 0)
