"""Who is asking: the client's address as the server saw it (behind a reverse proxy, run uvicorn
with --forwarded-allow-ips for the proxy so that this is the client's and not the proxy's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def address_of(scope: Mapping[str, Any]) -> str:
    """The client's IP address from the ASGI scope ("unknown" when the server does not say)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
