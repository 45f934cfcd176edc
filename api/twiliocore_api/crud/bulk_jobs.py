"""Bulk jobs and their recipients (messages with ``bulk_job_id`` set)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import is_storable
from twiliocore_api.models import BulkJob, Job, Message, utcnow

__all__ = [
    "bulk_job_sender",
    "bulk_jobs_without_queue_entry",
    "count_recipients",
    "finish_bulk_job",
    "get_bulk_job",
    "get_recipient",
    "pending_recipients",
    "recorded_sids",
    "set_bulk_job_status",
    "set_submitted_through",
]

#: Statuses of a bulk job not yet finished.
_UNFINISHED = ("queued", "running")


def get_bulk_job(session: Session, *, job_id: str) -> BulkJob | None:
    """The bulk job with this id, or ``None`` (also for text no job id can be)."""
    if not is_storable(job_id, max_length=36):
        return None
    return session.get(BulkJob, job_id)


def count_recipients(session: Session, *, job_id: str) -> dict[str, int]:
    """Recipients of a bulk job per status."""
    rows = session.execute(
        select(Message.status, func.count())
        .where(Message.bulk_job_id == job_id)
        .group_by(Message.status)
    ).all()
    return {status: int(count) for status, count in rows}


def pending_recipients(session: Session, *, job_id: str) -> list[Message]:
    """A bulk job's recipients without an outcome yet, in the order they were written."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.bulk_job_id == job_id, Message.status == "pending")
            .order_by(Message.id)
        ).all()
    )


def get_recipient(session: Session, *, job_id: str, to_number: str) -> Message | None:
    """A bulk job's recipient by number."""
    return session.scalar(
        select(Message).where(Message.bulk_job_id == job_id, Message.to_number == to_number)
    )


def bulk_job_sender(session: Session, *, job_id: str) -> str | None:
    """The sender recorded on a bulk job's messages (``None`` without one)."""
    return session.scalar(
        select(Message.from_number)
        .where(Message.bulk_job_id == job_id, Message.from_number.is_not(None))
        .order_by(Message.id)
        .limit(1)
    )


def set_submitted_through(session: Session, *, job_id: str, message_id: int) -> None:
    """Record that recipients up to ``message_id`` may be handed to the fan-out (no commit)."""
    session.execute(
        update(BulkJob)
        .where(
            BulkJob.id == job_id,
            or_(BulkJob.submitted_through.is_(None), BulkJob.submitted_through < message_id),
        )
        .values(submitted_through=message_id)
        .execution_options(synchronize_session=False)
    )


def set_bulk_job_status(
    session: Session, *, job_id: str, status: str, started: bool = False
) -> None:
    """Set a bulk job's status; ``started`` also stamps ``started_at`` once (no commit)."""
    values: dict[str, Any] = {"status": status}
    if started:
        values["started_at"] = func.coalesce(BulkJob.started_at, utcnow())
    session.execute(
        update(BulkJob)
        .where(BulkJob.id == job_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def recorded_sids(session: Session, *, sids: Sequence[str]) -> set[str]:
    """Which of ``sids`` are already recorded on a message."""
    found: set[str] = set()
    for start in range(0, len(sids), 500):
        chunk = list(sids[start : start + 500])
        found.update(
            sid
            for sid in session.scalars(
                select(Message.message_sid).where(Message.message_sid.in_(chunk))
            ).all()
            if sid is not None
        )
    return found


def finish_bulk_job(session: Session, *, job_id: str, status: str, error: str | None) -> None:
    """End a bulk job: recipients still without an outcome become ``unknown`` (commits)."""
    session.execute(
        update(Message)
        .where(Message.bulk_job_id == job_id, Message.status == "pending")
        .values(
            status="unknown",
            error="the outcome was not reported; check the message log at Twilio",
        )
    )
    session.execute(
        update(BulkJob)
        .where(BulkJob.id == job_id)
        .values(status=status, error=error, finished_at=utcnow())
    )
    session.commit()


def bulk_jobs_without_queue_entry(session: Session, *, kind: str) -> list[str]:
    """Unfinished bulk jobs that no queue job of ``kind`` refers to (from before the queue)."""
    return list(
        session.scalars(
            select(BulkJob.id)
            .outerjoin(Job, (Job.kind == kind) & (Job.ref == BulkJob.id))
            .where(BulkJob.status.in_(_UNFINISHED), Job.id.is_(None))
        ).all()
    )
