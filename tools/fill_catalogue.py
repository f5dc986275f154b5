"""Write tools/zh_CN.py's texts into the zh_CN catalogue; list msgids that still lack Chinese."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).parent))
from zh_CN import ZH

PO = Path(__file__).resolve().parents[1] / "src/kefu/translations/zh_CN/LC_MESSAGES/messages.po"

with PO.open("rb") as fh:
    catalog = read_po(fh, locale="zh_CN")
missing = []
for message in catalog:
    if not message.id:
        continue
    if message.id in ZH:
        message.string = ZH[message.id]
        message.flags.discard("fuzzy")
    elif not message.string:
        missing.append(message.id)
with PO.open("wb") as fh:
    write_po(fh, catalog, width=0, omit_header=False)
for m in missing:
    print("missing:", m)
sys.exit(1 if missing else 0)
