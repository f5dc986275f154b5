"""kefu with the hash chain of work-order events switched off (every event's hash a constant), to
measure what the chain costs on intake. Used by `bench/intake.py --chain-cost` only, on its own
benchmark database: the chains it leaves do not verify."""

from __future__ import annotations

from typing import Any

from kefu.adapters.db import workorder_repository


def _no_content(*_: Any) -> dict[str, Any]:
    return {}


def _no_hash(*_: Any) -> str:
    return "0" * 64


workorder_repository.event_content = _no_content
workorder_repository.chain_hash = _no_hash

from kefu.asgi import app  # noqa: E402 - built after the chain is switched off

__all__ = ["app"]
