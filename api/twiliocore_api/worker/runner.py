"""The worker: claims due jobs of the kinds it knows and runs them on threads.

One :class:`Worker` runs inside each service process (the embedded default). Its loop
sweeps expired leases back into the queue, claims what it has room for, and starts one
thread per job; a heartbeat thread extends every held lease each third of the lease. A
job is acknowledged after its handler returns; a handler told to stop (shutdown, or its
lease was lost) returns early and the job is released (or, lease lost, left to the new
holder).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from twiliocore_api.worker.queue import JobQueue, Lease

__all__ = ["Abandon", "Handler", "RetryLater", "Worker", "worker_id"]

logger = logging.getLogger("twiliocore_api")

#: Runs a job; ``stop`` is set when it must return early. Returns ``True`` when the work
#: is finished (acknowledged), ``False`` when it stopped before (released, resumed later).
Handler = Callable[[Lease, threading.Event], bool]
#: Told that a job of its kind was given up (``ref``, why), to settle the work's record.
Abandon = Callable[[str | None, str], None]


class RetryLater(Exception):
    """Raised by a handler that cannot decide now: the job is due again in ``delay`` seconds.

    Args:
        reason: why (kept as the job's ``last_error``).
        delay: seconds until the job is due again.
    """

    def __init__(self, reason: str, *, delay: float = 30.0) -> None:
        super().__init__(reason)
        self.delay = delay


def worker_id() -> str:
    """A worker identity for leases: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class _Running:
    lease: Lease
    thread: threading.Thread
    # time.monotonic() until which the lease is surely held (from the last extension).
    held_until: float
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False


class Worker:
    """Runs registered job kinds from a :class:`JobQueue` on threads of this process.

    Usage::

        worker = Worker(queue, concurrency=4, poll_seconds=1.0)
        worker.register("bulk_send", run_bulk_job, abandon=settle_bulk_job)
        worker.start()
        ...
        worker.wake()  # a job was enqueued: look now rather than at the next poll
        ...
        worker.stop()  # handlers stop, unfinished jobs are released

    Thread-safe: ``wake`` and ``stop`` may be called from any thread.

    Args:
        queue: where jobs come from.
        concurrency: jobs run at once.
        poll_seconds: how often the queue is looked at (and swept) without a ``wake``.
        identity: the lease owner (default :func:`worker_id`).
    """

    def __init__(
        self,
        queue: JobQueue,
        *,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        identity: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency: must be >= 1")
        self.queue = queue
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.identity = identity or worker_id()
        self._handlers: dict[str, tuple[Handler, Abandon | None]] = {}
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # Leases are extended until the last handler has returned, after _stopping.
        self._beats_done = threading.Event()
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        return f"Worker({self.identity!r}, kinds={sorted(self._handlers)})"

    def register(self, kind: str, handler: Handler, *, abandon: Abandon | None = None) -> None:
        """Run jobs of ``kind`` with ``handler``; ``abandon`` hears of those given up."""
        self._handlers[kind] = (handler, abandon)

    def start(self) -> None:
        """Start the claim loop and the heartbeat threads."""
        for target, name in ((self._loop, "claim"), (self._heartbeats, "heartbeat")):
            thread = threading.Thread(target=target, name=f"worker-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look at the queue now (a job was just enqueued)."""
        self._wake.set()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop claiming, tell running handlers to stop, wait for them, release their jobs."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            running = list(self._running.values())
        for item in running:
            item.stop.set()
        for item in running:
            item.thread.join(timeout)
        self._beats_done.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    @property
    def active(self) -> list[Lease]:
        """The leases held right now."""
        with self._lock:
            return [item.lease for item in self._running.values()]

    # ------------------------------------------------------------------ threads

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._sweep()
                with self._lock:
                    room = self.concurrency - len(self._running)
                if room > 0 and self._handlers:
                    claimed_at = time.monotonic()
                    for lease in self.queue.claim(
                        list(self._handlers), owner=self.identity, limit=room
                    ):
                        self._run(lease, claimed_at)
            except Exception:
                logger.exception("the job worker's loop failed; trying again")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _sweep(self) -> None:
        # Our own jobs are alive even when their heartbeat is late: never sweep them here.
        with self._lock:
            alive = [item.lease.token for item in self._running.values()]
        requeued, given_up = self.queue.sweep(alive=alive)
        if requeued:
            logger.warning("%d job(s) whose worker stopped are queued again", requeued)
        for job in given_up:
            logger.error("job %s (%s) given up: its leases kept expiring", job.id, job.kind)
            self._abandon(job.kind, job.ref, "its worker stopped too many times")

    def _abandon(self, kind: str, ref: str | None, error: str) -> None:
        entry = self._handlers.get(kind)
        if entry is None or entry[1] is None:
            return
        try:
            entry[1](ref, error)
        except Exception:
            logger.exception("settling the given-up %s job %s failed", kind, ref)

    def _run(self, lease: Lease, claimed_at: float) -> None:
        thread = threading.Thread(
            target=self._execute, args=(lease,), name=f"job-{lease.kind}-{lease.job_id[:8]}"
        )
        thread.daemon = True
        with self._lock:
            self._running[lease.job_id] = _Running(
                lease, thread, held_until=claimed_at + self.queue.lease_seconds
            )
            if self._stopping.is_set():
                self._running[lease.job_id].stop.set()
        logger.info("claimed %s job %s (attempt %d)", lease.kind, lease.job_id, lease.attempt)
        thread.start()

    def _execute(self, lease: Lease) -> None:
        with self._lock:
            item = self._running[lease.job_id]
        handler, _abandon = self._handlers[lease.kind]
        try:
            finished = handler(lease, item.stop)
        except RetryLater as exc:
            if not item.lost:
                logger.warning(
                    "%s job %s: %s; again in %.0fs", lease.kind, lease.job_id, exc, exc.delay
                )
                if self.queue.fail(lease, str(exc), retry_in=exc.delay) == "failed":
                    self._abandon(lease.kind, lease.ref, f"attempts used up: {exc}")
        except Exception as exc:
            logger.exception("%s job %s failed", lease.kind, lease.job_id)
            if not item.lost and self.queue.fail(lease, f"{type(exc).__name__}: {exc}") is not None:
                self._abandon(lease.kind, lease.ref, f"the job failed: {type(exc).__name__}")
        else:
            if item.lost:
                logger.warning(
                    "%s job %s: lease lost, left to its new holder", lease.kind, lease.job_id
                )
            elif finished:
                self.queue.complete(lease)
            else:
                self.queue.release(lease)
                logger.info("%s job %s released unfinished", lease.kind, lease.job_id)
        finally:
            with self._lock:
                self._running.pop(lease.job_id, None)
            self._wake.set()

    def _heartbeats(self) -> None:
        lease_seconds = self.queue.lease_seconds
        while not self._beats_done.is_set():
            with self._lock:
                running = list(self._running.values())
            for item in running:
                started = time.monotonic()
                try:
                    held = self.queue.heartbeat(item.lease)
                except Exception:
                    logger.exception("extending the lease of job %s failed", item.lease.job_id)
                    # Stop before the lease may expire: another worker may then take it.
                    held = time.monotonic() < item.held_until - lease_seconds / 3
                else:
                    if held:
                        item.held_until = started + lease_seconds
                    took = time.monotonic() - started
                    if took > lease_seconds / 3:
                        logger.warning(
                            "extending the lease of job %s took %.1fs (lease %.1fs)",
                            item.lease.job_id,
                            took,
                            lease_seconds,
                        )
                if not held and not item.lost and item.thread.is_alive():
                    logger.error(
                        "%s job %s: its lease was lost; stopping it",
                        item.lease.kind,
                        item.lease.job_id,
                    )
                    item.lost = True
                    item.stop.set()
            self._beats_done.wait(lease_seconds / 3)
