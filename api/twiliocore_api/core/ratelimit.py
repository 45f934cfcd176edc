"""A per-user sliding-window rate limit for the send routes (in-process)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

__all__ = ["RateLimiter"]


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

    def hit(self, key: object) -> int | None:
        """Count a hit; ``None`` when allowed, else the seconds until one is (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(self.window - (now - hits[0])))
            hits.append(now)
            return None
