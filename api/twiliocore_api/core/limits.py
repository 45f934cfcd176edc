"""The request body size limit: a body over it is a 413 naming the body, before it is read."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twiliocore_api.core.errors import body_error

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """ASGI middleware refusing request bodies of more than ``max_bytes()`` bytes.

    A declared ``Content-Length`` over the limit is answered at once, without reading the
    body; a body without one (chunked) is counted as it arrives and refused as soon as it
    passes the limit: reading it raises the 413, which the error handlers answer. The
    limit is read per request, as the service's settings are known once it has started.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, its body limited."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()

        def too_large() -> str:
            return f"request body too large: more than {limit} bytes"

        declared = [value for name, value in scope["headers"] if name == b"content-length"]
        if declared:
            text = declared[0].decode("latin-1").strip()
            if len(declared) > 1 or not (text.isascii() and text.isdigit()):
                response = body_error(
                    status.HTTP_400_BAD_REQUEST, "Content-Length is not a byte count", "invalid"
                )
                await response(scope, receive, send)
                return
            if int(text) > limit:
                response = body_error(status.HTTP_413_CONTENT_TOO_LARGE, too_large(), "too_large")
                await response(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large())
            return message

        await self.app(scope, counted, send)
