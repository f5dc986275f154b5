"""Request bodies are refused with 413 over a size, before the application reads a byte of them:
a declared Content-Length over the limit at once, a chunked body (no Content-Length) by counting
it as it arrives. Endpoints anyone may call without an account (login, the portal, the providers'
webhooks) get a smaller limit than the rest; the routes that take an uploaded file (a path under
one of `uploads` ending in /attachments) get the size of a file and its envelope. Pure ASGI (no
framework here): kefu.app wires it and says how a refusal looks (problem+json for the API, a page
for the pages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Answers a body over `limit` bytes: (scope, receive, send, limit).
Refuse = Callable[[Scope, Receive, Send, int], Awaitable[None]]


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared; None without one (chunked), -1 when it is no number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else -1
    return None


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        public_max_bytes: int,
        public: tuple[str, ...],
        refuse: Refuse,
        uploads: tuple[str, ...] = (),
        upload_max_bytes: int = 0,
    ) -> None:
        self.app, self.max_bytes, self.public_max_bytes = app, max_bytes, public_max_bytes
        self.public, self.refuse = public, refuse
        self.uploads, self.upload_max_bytes = uploads, upload_max_bytes

    def limit_for(self, path: str) -> int:
        if self.uploads and path.startswith(self.uploads) and path.endswith("/attachments"):
            return max(self.upload_max_bytes, self.max_bytes)
        return self.public_max_bytes if path.startswith(self.public) else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = declared_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            await self.refuse(scope, receive, send, limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)  # the server reads no more than it was told
            return
        # Chunked: count it as it arrives, and hand it on only once it proved small enough.
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)  # the client went away: the application sees that
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self.refuse(scope, receive, send, limit)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)
