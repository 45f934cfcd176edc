"""The job queue (``jobs``): enqueue, claim with a lease, extend, complete, fail, release, sweep.

Keyword-only functions taking the session first, as in :mod:`twiliocore_api.crud`.
Functions that change a lease commit themselves (their conditional ``UPDATE`` is the
lease protocol: a row changes only for the holder of its ``lease_token``); the others
leave the commit to the caller, so that a job is enqueued in the transaction that
writes its record.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import rowcount
from twiliocore_api.models import Job, utcnow

__all__ = [
    "EXPIRED_ERROR",
    "ExpiredJob",
    "claim_jobs",
    "complete_job",
    "enqueue_job",
    "extend_lease",
    "fail_job",
    "get_job",
    "release_job",
    "requeue_expired",
]

#: ``last_error`` of a job whose lease expired: its worker stopped without a word.
EXPIRED_ERROR = "the worker holding the job stopped (its lease expired)"

_LIVE = ("queued", "running")


@dataclass(frozen=True)
class ExpiredJob:
    """A job given up by :func:`requeue_expired` (its leases expired ``max_attempts`` times)."""

    id: str
    kind: str
    ref: str | None


# ---------------------------------------------------------------------------- the queue


def enqueue_job(
    session: Session,
    *,
    kind: str,
    ref: str | None = None,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 20,
) -> Job:
    """Add a job (not committed: commit it with the record it works on).

    One job lives per ``(kind, ref)``: a live one is returned as it is; a finished one
    is queued again with the new payload and ``run_at``.
    """
    if ref is not None:
        existing = session.scalar(select(Job).where(Job.kind == kind, Job.ref == ref))
        if existing is not None:
            if existing.status not in _LIVE:
                existing.status = "queued"
                existing.payload = payload or {}
                existing.run_at = run_at or utcnow()
                existing.attempts = 0
                existing.max_attempts = max_attempts
                existing.last_error = None
                existing.finished_at = None
            return existing
    job = Job(
        id=str(uuid.uuid4()),
        kind=kind,
        ref=ref,
        payload=payload or {},
        status="queued",
        run_at=run_at or utcnow(),
        attempts=0,
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, job_id: str) -> Job | None:
    """A job by id."""
    return session.get(Job, job_id)


def claim_jobs(
    session: Session,
    *,
    kinds: Collection[str],
    owner: str,
    lease_seconds: float,
    limit: int = 1,
) -> list[Job]:
    """Claim up to ``limit`` queued jobs of ``kinds`` that are due, and commit.

    Each claim is a conditional ``UPDATE ... WHERE status = 'queued'``: of two workers
    that picked the same candidate, one updates the row and the other updates nothing
    (SQLite serialises writers; PostgreSQL re-checks the condition after the first
    commits). On PostgreSQL the candidates are also read ``FOR UPDATE SKIP LOCKED`` so
    that concurrent workers pick different rows.
    """
    if not kinds or limit < 1:
        return []
    now = utcnow()
    query = (
        select(Job.id)
        .where(Job.status == "queued", Job.kind.in_(list(kinds)), Job.run_at <= now)
        .order_by(Job.run_at, Job.created_at)
        .limit(limit)
    )
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = list(session.scalars(query).all())
    claimed: list[tuple[str, str]] = []
    expires = now + timedelta(seconds=lease_seconds)
    for job_id in candidates:
        token = str(uuid.uuid4())
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                lease_owner=owner,
                lease_token=token,
                lease_expires_at=expires,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            claimed.append((job_id, token))
    session.commit()
    jobs = []
    for job_id, token in claimed:
        job = session.get(Job, job_id, populate_existing=True)
        if job is not None and job.lease_token == token:
            jobs.append(job)
    return jobs


def _held(job_id: str, token: str) -> Any:
    return (Job.id == job_id) & (Job.lease_token == token) & (Job.status == "running")


def extend_lease(session: Session, *, job_id: str, token: str, lease_seconds: float) -> bool:
    """Extend a held lease by ``lease_seconds`` from now; ``False`` if it is no longer held."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(_held(job_id, token))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds), heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return rowcount(result) == 1


def complete_job(session: Session, *, job_id: str, token: str) -> bool:
    """Acknowledge a held job as done; ``False`` if the lease was lost meanwhile."""
    result = session.execute(
        update(Job)
        .where(_held(job_id, token))
        .values(
            status="done",
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
            finished_at=utcnow(),
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return rowcount(result) == 1


def fail_job(
    session: Session,
    *,
    job_id: str,
    token: str,
    error: str,
    retry_at: datetime | None = None,
) -> str | None:
    """Give a held job up: queued again at ``retry_at`` while attempts remain, else failed.

    Returns the job's new status (``"queued"`` or ``"failed"``), ``None`` if the lease
    was lost meanwhile.
    """
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_token": None,
        "lease_expires_at": None,
        "last_error": error,
    }
    job = session.get(Job, job_id, populate_existing=True)
    if retry_at is not None and job is not None and job.attempts < job.max_attempts:
        values.update(status="queued", run_at=retry_at)
    else:
        values.update(status="failed", finished_at=utcnow())
    result = session.execute(
        update(Job)
        .where(_held(job_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return str(values["status"]) if rowcount(result) == 1 else None


def release_job(
    session: Session, *, job_id: str, token: str, run_at: datetime | None = None
) -> bool:
    """Hand a held job back unfinished (e.g. at shutdown): queued again, not counted failed."""
    result = session.execute(
        update(Job)
        .where(_held(job_id, token))
        .values(
            status="queued",
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
            run_at=run_at or utcnow(),
            # A release is not a failed attempt.
            attempts=case((Job.attempts > 0, Job.attempts - 1), else_=0),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return rowcount(result) == 1


def requeue_expired(
    session: Session, *, alive: Collection[str] = ()
) -> tuple[int, list[ExpiredJob]]:
    """The sweeper: put jobs whose lease expired back in the queue, and commit.

    ``alive`` are lease tokens the caller knows to be alive (its own running jobs, whose
    heartbeat is merely late): those are left alone.

    Returns how many were queued again, and the jobs given up because their leases had
    expired ``max_attempts`` times (a job that kills its worker every time).
    """
    now = utcnow()
    expired = (Job.status == "running") & (Job.lease_expires_at < now)
    if alive:
        expired = expired & Job.lease_token.not_in(list(alive))
    # Most sweeps find nothing: look first, so that they take no write lock.
    if session.scalar(select(Job.id).where(expired).limit(1)) is None:
        session.rollback()
        return 0, []
    cleared = {"lease_owner": None, "lease_token": None, "lease_expires_at": None}
    dead = session.execute(
        select(Job.id, Job.kind, Job.ref, Job.lease_token).where(
            expired, Job.attempts >= Job.max_attempts
        )
    ).all()
    given_up: list[ExpiredJob] = []
    for job_id, kind, ref, token in dead:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_token == token, expired)
            .values(status="failed", finished_at=now, last_error=EXPIRED_ERROR, **cleared)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            given_up.append(ExpiredJob(job_id, kind, ref))
    result = session.execute(
        update(Job)
        .where(expired, Job.attempts < Job.max_attempts)
        .values(status="queued", last_error=EXPIRED_ERROR, **cleared)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return rowcount(result), given_up
