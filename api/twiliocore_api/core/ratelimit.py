"""Rate limits and the login guard (in-process).

Sliding windows for sends per user and logins per e-mail and per client address; the
login guard bounds the password checks running at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

__all__ = ["LoginGuard", "RateLimiter"]


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key.

    Thread-safe. State lives in the process: with several service processes each holds
    its own window (put the limit in the proxy for a global one).
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[object, deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def retry_after(self, key: object) -> int | None:
        """Like :meth:`hit` without counting: ``None`` when a hit would be allowed."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return None
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if not hits:
                del self._hits[key]
                return None
            if len(hits) >= self.limit:
                return max(1, math.ceil(self.window - (now - hits[0])))
            return None

    def hit(self, key: object) -> int | None:
        """Count a hit; ``None`` when allowed, else the seconds until one is (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000 and now - self._swept > self.window / 10:
                self._sweep(now)  # a flood of distinct keys must not grow without end
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(self.window - (now - hits[0])))
            hits.append(now)
            return None

    def _sweep(self, now: float) -> None:
        # Under the lock: forget the keys with no hit inside the window.
        self._swept = now
        for key in [k for k, hits in self._hits.items() if now - hits[-1] >= self.window]:
            del self._hits[key]


class LoginGuard:
    """Keeps login attempts from starving the service: per client address, and globally.

    - A client address with ``failures_per_client`` failed logins in 5 minutes gets 429
      without a password being checked (:meth:`blocked`, :meth:`failed`).
    - At most ``per_client`` logins of one address are checked at once, and at most
      ``hashes`` in all (argon2 takes a core and 64 MiB per check); a login finding no
      place within ``wait_seconds`` is refused (:meth:`slot`), so a flood answers fast
      instead of queueing every other request behind password hashes.

    Thread-safe. State lives in the process.
    """

    def __init__(
        self,
        *,
        failures_per_client: int,
        hashes: int,
        per_client: int = 2,
        wait_seconds: float = 1.0,
        window: float = 300.0,
    ) -> None:
        self.failures = RateLimiter(failures_per_client, window)
        self.hashes = hashes
        self.per_client = per_client
        self.wait_seconds = wait_seconds
        self._hash_slots = threading.BoundedSemaphore(hashes)
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> int | None:
        """Seconds until ``client`` may try again after too many failures (``None``: it may)."""
        return self.failures.retry_after(client)

    def failed(self, client: str) -> None:
        """Count a failed login of ``client``."""
        self.failures.hit(client)

    def acquire(self, client: str) -> str | None:
        """Take a place to check a password; ``None`` on success, else why not.

        ``"client"``: this address already has ``per_client`` checks running;
        ``"busy"``: no place came free within ``wait_seconds``. Pair with :meth:`release`.
        """
        with self._lock:
            if self._busy.get(client, 0) >= self.per_client:
                return "client"
            self._busy[client] = self._busy.get(client, 0) + 1
        if self._hash_slots.acquire(timeout=self.wait_seconds):
            return None
        self._leave(client)
        return "busy"

    def release(self, client: str) -> None:
        """Give back the place taken by :meth:`acquire`."""
        self._hash_slots.release()
        self._leave(client)

    def _leave(self, client: str) -> None:
        with self._lock:
            left = self._busy.get(client, 1) - 1
            if left:
                self._busy[client] = left
            else:
                self._busy.pop(client, None)
