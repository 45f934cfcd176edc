"""The job queue interface, and its embedded implementation on the service's database.

A job is a row that says "work on this" (a kind, a reference to the work's own record,
a small payload, and when it is due). Workers :meth:`~JobQueue.claim` due jobs with a
*lease* (owner, token, expiry), keep it alive with :meth:`~JobQueue.heartbeat` while they
work, and acknowledge *after* the work (:meth:`~JobQueue.complete`), or give the job up
(:meth:`~JobQueue.fail`, :meth:`~JobQueue.release`). A lease nobody extends expires; the
sweeper (:meth:`~JobQueue.sweep`) puts such jobs back in the queue, so the work of a
worker that died is resumed by another. Every change to a held job is conditional on its
lease token: a worker that lost its lease can change nothing.

:class:`SqlJobQueue` keeps the queue in the service's own database (SQLite or PostgreSQL),
next to the records the jobs work on, so a job is enqueued in the transaction that writes
its record. Another implementation (a broker) fits the same :class:`JobQueue` protocol.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from twiliocore_api import crud
from twiliocore_api.crud import ExpiredJob
from twiliocore_api.models import Job, utcnow

__all__ = ["ExpiredJob", "JobQueue", "Lease", "SqlJobQueue"]


@dataclass(frozen=True)
class Lease:
    """A claimed job: what to do, and the proof of holding it.

    Attributes:
        job_id: the queue job's id.
        kind: what kind of work (selects the handler).
        ref: what the work is about (e.g. a bulk job id), or ``None``.
        payload: the job's parameters.
        owner: the worker holding it (``host:pid:random``).
        token: this claim's token; every change to the job is conditional on it.
        attempt: how many times the job has been claimed, this claim included.
    """

    job_id: str
    kind: str
    ref: str | None
    payload: dict[str, Any] = field(repr=False)
    owner: str
    token: str = field(repr=False)
    attempt: int


class JobQueue(Protocol):
    """What a worker needs from a queue. Implementations are safe to share between threads."""

    lease_seconds: float

    def enqueue(
        self,
        session: Session,
        kind: str,
        *,
        ref: str | None = None,
        payload: dict[str, Any] | None = None,
        run_at: datetime | None = None,
    ) -> str:
        """Add a job due at ``run_at`` (now by default), in ``session``'s transaction.

        The caller commits, together with the record the job works on. One live job
        exists per ``(kind, ref)``. Returns the job id.
        """
        ...

    def claim(self, kinds: Collection[str], *, owner: str, limit: int = 1) -> list[Lease]:
        """Claim up to ``limit`` due jobs of ``kinds`` for ``owner``, each for ``lease_seconds``."""
        ...

    def heartbeat(self, lease: Lease) -> bool:
        """Extend the lease; ``False`` when it was lost (the work must stop)."""
        ...

    def complete(self, lease: Lease) -> bool:
        """Acknowledge the job as done (after the work)."""
        ...

    def fail(self, lease: Lease, error: str, *, retry_in: float | None = None) -> str | None:
        """Give the job up: due again in ``retry_in`` seconds while attempts remain, else failed.

        Returns the job's new status (``"queued"`` or ``"failed"``), ``None`` if the lease
        was lost.
        """
        ...

    def release(self, lease: Lease) -> bool:
        """Hand the job back unfinished (e.g. at shutdown): due again at once."""
        ...

    def sweep(self, *, alive: Collection[str] = ()) -> tuple[int, list[ExpiredJob]]:
        """Put jobs whose lease expired back in the queue (not those whose token is in ``alive``).

        Returns how many were queued again, and the jobs given up after too many expiries.
        """
        ...


class SqlJobQueue:
    """The embedded queue: the ``jobs`` table of the service's database.

    Usage::

        queue = SqlJobQueue(session_factory, lease_seconds=30)
        with session_factory() as session:
            record = ...  # the work's own rows
            queue.enqueue(session, "bulk_send", ref=record.id)
            session.commit()
        for lease in queue.claim(["bulk_send"], owner=worker_id):
            ...  # work, heartbeat() every lease_seconds / 3
            queue.complete(lease)

    Thread-safe: every call uses its own session. Claims are conditional ``UPDATE``s, so
    threads and processes sharing the database never claim one job twice; lease expiry
    is judged on the workers' clocks (keep hosts in sync; the lease outlasts any skew).

    Args:
        session_factory: sessions on the service's database.
        lease_seconds: how long a claim or heartbeat holds a job.
        max_attempts: claims after which a job whose lease keeps expiring is given up.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        lease_seconds: float = 30.0,
        max_attempts: int = 20,
    ) -> None:
        if not lease_seconds > 0:
            raise ValueError("lease_seconds: must be > 0")
        self.session_factory = session_factory
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    def enqueue(
        self,
        session: Session,
        kind: str,
        *,
        ref: str | None = None,
        payload: dict[str, Any] | None = None,
        run_at: datetime | None = None,
    ) -> str:
        """See :meth:`JobQueue.enqueue`."""
        job = crud.enqueue_job(
            session,
            kind=kind,
            ref=ref,
            payload=payload,
            run_at=run_at,
            max_attempts=self.max_attempts,
        )
        return job.id

    def claim(self, kinds: Collection[str], *, owner: str, limit: int = 1) -> list[Lease]:
        """See :meth:`JobQueue.claim`."""
        with self.session_factory() as session:
            jobs = crud.claim_jobs(
                session, kinds=kinds, owner=owner, lease_seconds=self.lease_seconds, limit=limit
            )
            return [_lease(job) for job in jobs]

    def heartbeat(self, lease: Lease) -> bool:
        """See :meth:`JobQueue.heartbeat`."""
        with self.session_factory() as session:
            return crud.extend_lease(
                session, job_id=lease.job_id, token=lease.token, lease_seconds=self.lease_seconds
            )

    def complete(self, lease: Lease) -> bool:
        """See :meth:`JobQueue.complete`."""
        with self.session_factory() as session:
            return crud.complete_job(session, job_id=lease.job_id, token=lease.token)

    def fail(self, lease: Lease, error: str, *, retry_in: float | None = None) -> str | None:
        """See :meth:`JobQueue.fail`."""
        retry_at = None if retry_in is None else utcnow() + timedelta(seconds=retry_in)
        with self.session_factory() as session:
            return crud.fail_job(
                session, job_id=lease.job_id, token=lease.token, error=error, retry_at=retry_at
            )

    def release(self, lease: Lease) -> bool:
        """See :meth:`JobQueue.release`."""
        with self.session_factory() as session:
            return crud.release_job(session, job_id=lease.job_id, token=lease.token)

    def sweep(self, *, alive: Collection[str] = ()) -> tuple[int, list[ExpiredJob]]:
        """See :meth:`JobQueue.sweep`."""
        with self.session_factory() as session:
            return crud.requeue_expired(session, alive=alive)


def _lease(job: Job) -> Lease:
    assert job.lease_owner is not None and job.lease_token is not None
    return Lease(
        job_id=job.id,
        kind=job.kind,
        ref=job.ref,
        payload=dict(job.payload or {}),
        owner=job.lease_owner,
        token=job.lease_token,
        attempt=job.attempts,
    )
