"""Load shedding: a bounded number of requests at work, a short wait, then a fast 503.

Every request the service works on holds a thread of the pool sync routes run in, and most
hold a database connection. Let more in than there are connections and they wait on each
other; past the thread pool's size, a finished request cannot even hand its connection
back (FastAPI closes the session on a pool thread), and the service stops answering. So
:class:`LoadShedder` admits at most ``limit`` requests per lane at once; a request beyond it
waits up to ``wait_seconds`` for a place, in a queue of at most ``queue`` requests, and is
otherwise answered at once with ``503`` and ``Retry-After``, before its body is read.

Lanes (see :func:`lane_of`):

- ``api``: every route but the two below (``MAX_CONCURRENT_REQUESTS``);
- ``webhook``: Twilio's webhooks, on their own budget so that a flood of API calls never
  costs a receipt (``MAX_CONCURRENT_WEBHOOKS``; they hold no thread and no connection);
- ``/api/health`` is never shed: it answers from a snapshot kept fresh in the background.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Gate", "LoadShedder", "lane_of"]

logger = logging.getLogger("twiliocore_api")

_EXEMPT = frozenset({"/api/health"})
_WEBHOOK_PREFIX = "/webhook/"


def lane_of(path: str) -> str | None:
    """The lane a request path is admitted in (``None``: never shed)."""
    if path in _EXEMPT:
        return None
    return "webhook" if path.startswith(_WEBHOOK_PREFIX) else "api"


@dataclass
class Gate:
    """At most ``limit`` holders; up to ``queue`` waiters, each for ``wait_seconds`` at most.

    Used from one event loop (the server's). Create it inside that loop.
    """

    limit: int
    queue: int
    wait_seconds: float

    def __post_init__(self) -> None:
        self._semaphore = anyio.Semaphore(self.limit)
        self.waiting = 0
        self.shed = 0

    @property
    def in_flight(self) -> int:
        """Requests admitted and not finished."""
        return self.limit - self._semaphore.value

    async def acquire(self) -> bool:
        """Take a place; False when the queue is full or the wait ran out (shed)."""
        if self._semaphore.value > 0 and self.waiting == 0:
            await self._semaphore.acquire()
            return True
        if self.waiting >= self.queue:
            self.shed += 1
            return False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait_seconds):
                await self._semaphore.acquire()
                return True
        finally:
            self.waiting -= 1
        self.shed += 1
        return False

    def release(self) -> None:
        """Give the place back."""
        self._semaphore.release()


class LoadShedder:
    """ASGI middleware admitting requests through the app's gates (``app.state.gates``).

    The gates are made at start-up (:func:`twiliocore_api.main.create_app`'s lifespan);
    until then, and for lifespan and WebSocket traffic, requests pass through.

    Args:
        app: the ASGI app to protect.
        gates: returns the gates by lane name, or ``None`` before start-up.
    """

    def __init__(self, app: ASGIApp, gates: Callable[[], dict[str, Gate] | None]) -> None:
        self.app = app
        self.gates = gates
        self._last_warning = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit the request (or shed it), then run it."""
        gates = self.gates() if scope["type"] == "http" else None
        lane = lane_of(scope.get("path", "")) if gates is not None else None
        gate = gates.get(lane) if gates is not None and lane is not None else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        if not await gate.acquire():
            self._warn(lane or "", gate)
            await _shed(send, gate)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.release()

    def _warn(self, lane: str, gate: Gate) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 10.0:
            self._last_warning = now
            logger.warning(
                "over capacity: shedding %s requests with 503 (%d at work, %d waiting, "
                "%d shed so far)",
                lane,
                gate.in_flight,
                gate.waiting,
                gate.shed,
            )


async def _shed(send: Send, gate: Gate) -> None:
    retry_after = max(1, round(gate.wait_seconds))
    body = json.dumps({"detail": f"the service is at capacity; retry in {retry_after} s"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
