"""Per-sender queues at Twilio's rates, and the account's concurrent-request limit.

Twilio releases each sender's messages at a rate counted in message segments per second
(1/s for a US/CA long code, 3/s toll-free, 100/s short code, 10/s elsewhere; WhatsApp
senders 80/s). Messages beyond the rate wait in the sender's queue (status ``queued``);
a create that would make the queue longer than its cap (10 hours of traffic by default,
or the message's ``ValidityPeriod``) fails with 21611.

Each sender is modelled by the time its queue will be empty; a new message of ``n``
segments leaves the queue at that time and pushes it by ``n / rate`` seconds.
"""

from __future__ import annotations

import re
import threading
import time

__all__ = ["ConcurrencyLimiter", "SenderQueues", "sender_rate"]

_SHORT_CODE = re.compile(r"^\d{5,6}$")
_TOLL_FREE = re.compile(r"^\+18(00|33|44|55|66|77|88)\d{7}$")
_NANP = re.compile(r"^\+1\d{10}$")


def sender_rate(sender: str, override: float | None = None) -> float:
    """Return a sender's rate in segments per second, as Twilio assigns it by default.

    Args:
        sender: the ``From`` address.
        override: a rate that applies to every sender (``--mps``).
    """
    if override is not None:
        return override
    if sender.startswith("whatsapp:"):
        return 80.0
    if _SHORT_CODE.match(sender):
        return 100.0
    if _TOLL_FREE.match(sender):
        return 3.0
    if _NANP.match(sender):
        return 1.0
    return 10.0


class SenderQueues:
    """The outbound queue of every sender. Thread-safe.

    Args:
        cap_seconds: the longest a queue may be, in seconds of the sender's traffic.
        mps: a rate for every sender, overriding Twilio's defaults.
    """

    def __init__(self, cap_seconds: float, mps: float | None) -> None:
        self.cap_seconds = cap_seconds
        self.mps = mps
        self._lock = threading.Lock()
        self._free_at: dict[str, float] = {}

    def reset(self) -> None:
        """Empty every queue."""
        with self._lock:
            self._free_at.clear()

    def enqueue(self, sender: str, segments: int, validity: float | None = None) -> float | None:
        """Reserve the sender's next slot for a message of ``segments`` segments.

        Args:
            sender: the ``From`` address.
            segments: the message's segment count (at least 1).
            validity: the message's ``ValidityPeriod``; the queue may not exceed it either.

        Returns:
            The ``time.monotonic()`` instant at which the message leaves the queue, or
            ``None`` when the queue is full (the caller answers 21611; nothing is reserved).
        """
        rate = sender_rate(sender, self.mps)
        cost = max(segments, 1) / rate
        cap = self.cap_seconds if validity is None else min(self.cap_seconds, validity)
        with self._lock:
            now = time.monotonic()
            start = max(now, self._free_at.get(sender, now))
            if start - now + cost > cap:
                return None
            self._free_at[sender] = start + cost
            return start

    def backlog(self, sender: str) -> float:
        """Return how many seconds of traffic wait in the sender's queue."""
        with self._lock:
            return max(0.0, self._free_at.get(sender, 0.0) - time.monotonic())


class ConcurrencyLimiter:
    """Counts the account's in-flight API requests; refuses past the limit.

    Used from the event loop only; the count is guarded anyway for in-process readers.

    Args:
        limit: the most requests in flight at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take a slot; return False (and take nothing) when all are in use."""
        with self._lock:
            if self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        """Give a slot back."""
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        """The number of requests being processed now."""
        with self._lock:
            return self._in_flight
