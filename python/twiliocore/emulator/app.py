"""The emulator's ASGI application.

``build_app(runtime)`` returns a Starlette app wrapped in :class:`TwilioGate`, which applies
to every Twilio path (everything outside ``/_emulator``), in this order: the account's
concurrent-request limit (429 / 20429, never processed), injected faults, HTTP Basic
authentication (401 / 20003) and the account check (another account's path: 404 / 20404).

Each Twilio product is one router module exposing ``routes(runtime) -> list[BaseRoute]``;
add a module to :data:`PRODUCT_ROUTERS` to serve a new product.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import re
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twiliocore.emulator import accounts, inbound, inspection, messages
from twiliocore.emulator.responses import TwilioError, error_response, new_sid
from twiliocore.emulator.runtime import Runtime

__all__ = ["PRODUCT_ROUTERS", "TwilioGate", "build_app"]

logger = logging.getLogger("twiliocore.emulator")

#: One module per Twilio product, each with ``routes(runtime)``.
PRODUCT_ROUTERS: tuple[ModuleType, ...] = (accounts, messages)

#: Emulator-only modules, served under ``/_emulator`` without auth, limits or faults.
CONTROL_ROUTERS: tuple[ModuleType, ...] = (inspection, inbound)

_CONTROL_PREFIX = "/_emulator/"
_AUTHENTICATED_PREFIXES = ("/2010-04-01/", "/v1/", "/v2/")
_ACCOUNT_IN_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+?)(?:\.json)?(?:/|$)")

_STATUS_CODES = {
    401: (20003, "Authenticate"),
    403: (20403, "Forbidden"),
    404: (20404, "The requested resource was not found"),
    405: (20004, "Method not allowed"),
    413: (20413, "Request body too large"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


async def _send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)


async def drop_connection(send: Send) -> None:
    """Close the client's connection without sending any answer.

    uvicorn passes its request cycle's bound ``send``; its transport is aborted and the
    server notices the disconnect, so it neither answers 500 nor logs an error. Under
    another server, raising is the fallback (the server then decides what to send).
    """
    while isinstance(send, _RequestIdSend):
        send = send.inner
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionAbortedError("emulator fault: connection dropped")
    transport.abort()
    # connection_lost runs on the next loop iterations and marks the cycle disconnected.
    for _ in range(3):
        await asyncio.sleep(0)


class TwilioGate:
    """ASGI middleware: concurrency limit, faults, Basic auth, account check.

    Args:
        app: the inner application (the router).
        runtime: the emulator's runtime.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI event."""
        if scope["type"] != "http" or scope["path"].startswith(_CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        send = _RequestIdSend(send)
        if not self.rt.limiter.try_acquire():
            await _send_response(
                error_response(429, 20429, "Too Many Requests", {"Retry-After": "1"}),
                scope,
                receive,
                send,
            )
            return
        try:
            await self._handle(scope, receive, send)
        finally:
            self.rt.limiter.release()

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.rt.faults.pick()
        if fault in ("429", "500", "503"):
            status = int(fault)
            code, message = (20429, "Too Many Requests") if status == 429 else _STATUS_CODES[status]
            headers = {"Retry-After": "1"} if status == 429 else None
            await _send_response(
                error_response(status, code, message, headers), scope, receive, send
            )
            return
        if fault == "drop":
            await drop_connection(send)
            return
        if fault == "slow":
            await asyncio.sleep(self.rt.faults.config.slow_seconds)
        path: str = scope["path"]
        if path.startswith(_AUTHENTICATED_PREFIXES):
            problem = self._authenticate(scope)
            if problem is not None:
                await _send_response(problem.response(), scope, receive, send)
                return
        if fault == "drop_after":
            await self.app(scope, receive, _discard)
            await drop_connection(send)
            return
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> TwilioError | None:
        config = self.rt.config
        header = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return TwilioError(
                401, 20003, "Authentication Error - No credentials provided", _CHALLENGE
            )
        try:
            username, sep, password = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
        except ValueError:
            # binascii.Error (not base64), UnicodeDecodeError (not UTF-8) and the
            # ValueError b64decode raises for non-ASCII header bytes: all a wrong password.
            username, sep, password = "", "", ""
        expected = None
        if username == config.account_sid:
            expected = config.auth_token
        elif username in config.api_keys:
            expected = config.api_keys[username]
        if (
            not sep
            or expected is None
            or not hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))
        ):
            return TwilioError(
                401, 20003, "Authentication Error - invalid username or password", _CHALLENGE
            )
        if self.rt.account_status != "active":
            return TwilioError(
                401,
                20003,
                f"Authentication Error - the account is {self.rt.account_status}",
                _CHALLENGE,
            )
        match = _ACCOUNT_IN_PATH.match(scope["path"])
        if match and match.group(1) != config.account_sid:
            return TwilioError(404, 20404, f"The requested resource {scope['path']} was not found")
        return None


_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Twilio API"'}


class _RequestIdSend:
    """An ASGI ``send`` that adds a ``Twilio-Request-Id: RQ...`` header to the answer.

    It keeps the server's ``send`` as ``inner``, which :func:`drop_connection` follows to
    reach the connection.
    """

    def __init__(self, inner: Send) -> None:
        self.inner = inner
        self._request_id = new_sid("RQ").encode("ascii")

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"twilio-request-id", self._request_id))
            message = {**message, "headers": headers}
        await self.inner(message)


async def _discard(message: Message) -> None:
    """An ASGI ``send`` that throws the answer away (the connection is dropped after)."""


async def _twilio_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwilioError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = _STATUS_CODES.get(exc.status_code, (20000 + exc.status_code, "Error"))
    if exc.status_code == 404:
        message = f"The requested resource {request.url.path} was not found"
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, code, message, headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, 20500, "Internal Server Error")


def build_app(runtime: Runtime) -> ASGIApp:
    """Build the emulator's ASGI app for ``runtime``.

    Background work (status lifecycles, callbacks) is cancelled at lifespan shutdown.
    """
    routes: list[BaseRoute] = []
    for module in (*PRODUCT_ROUTERS, *CONTROL_ROUTERS):
        routes.extend(module.routes(runtime))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            await runtime.cancel_tasks()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            TwilioError: _twilio_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    # Twilio answers an unknown path (a trailing slash included) with 404 / 20404, never
    # a redirect, which twilio-python does not follow.
    app.router.redirect_slashes = False
    return TwilioGate(app, runtime)
