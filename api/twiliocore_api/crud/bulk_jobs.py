"""Bulk jobs and their recipients (messages with ``bulk_job_id`` set)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import is_storable
from twiliocore_api.models import BulkInvalid, BulkJob, Job, Message, StatusEvent, utcnow

__all__ = [
    "add_bulk_invalid",
    "add_recipients",
    "bulk_job_sender",
    "bulk_jobs_without_queue_entry",
    "count_created",
    "count_recipients",
    "finish_bulk_job",
    "get_bulk_job",
    "get_recipient",
    "list_recipients",
    "list_bulk_invalid",
    "pending_recipient_ids",
    "pending_recipients",
    "record_recipient_failures",
    "record_recipient_sids",
    "recorded_sids",
    "sids_with_status_events",
    "set_bulk_job_status",
    "set_submitted_through",
]

#: Statuses of a bulk job not yet finished.
_UNFINISHED = ("queued", "running")
# The tables, for Core statements (executemany of plain dicts, no ORM object per row).
_MESSAGES = cast(Table, Message.__table__)
_BULK_INVALID = cast(Table, BulkInvalid.__table__)
# The accepted-recipient UPDATE for the DB-API paramstyles that take parameters by
# position (SQLite's qmark, psycopg's %s); parameters: sid, time, segments, time, id.
_SID_UPDATE = (
    "UPDATE messages SET message_sid = ?, status = 'queued', sent_at = COALESCE(sent_at, ?),"
    " num_segments = ?, updated_at = ? WHERE id = ? AND status = 'pending'"
)
_SID_UPDATES = {
    "qmark": _SID_UPDATE,
    "format": _SID_UPDATE.replace("?", "%s"),
    "pyformat": _SID_UPDATE.replace("?", "%s"),
}
# Rows per executemany, and values per IN (...) (well under SQLite's variable limit).
_CHUNK = 5000
_IN_CHUNK = 500


def get_bulk_job(session: Session, *, job_id: str) -> BulkJob | None:
    """The bulk job with this id, or ``None`` (also for text no job id can be)."""
    if not is_storable(job_id, max_length=36):
        return None
    return session.get(BulkJob, job_id)


def count_created(session: Session, *, job_id: str) -> dict[str, int]:
    """Recipients Twilio created a message for (their SID is recorded), per status."""
    rows = session.execute(
        select(Message.status, func.count())
        .where(Message.bulk_job_id == job_id, Message.message_sid.is_not(None))
        .group_by(Message.status)
    ).all()
    return {status: int(count) for status, count in rows}


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


def list_recipients(session: Session, *, job_id: str, limit: int, offset: int) -> list[Message]:
    """A page of a bulk job's recipients, in the order they were written."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.bulk_job_id == job_id)
            .order_by(Message.id)
            .limit(limit)
            .offset(offset)
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


def finish_bulk_job(
    session: Session,
    *,
    job_id: str,
    status: str,
    error: str | None,
    unsent: tuple[str, int | None, str] | None = None,
) -> None:
    """End a bulk job (commits).

    Recipients still without an outcome become ``unknown``, or, with ``unsent`` given as
    ``(status, error_code, error)``, that: for recipients known never to have been sent.
    """
    pending_status, pending_code, pending_error = unsent or (
        "unknown",
        None,
        "the outcome was not reported; check the message log at Twilio",
    )
    session.execute(
        update(Message)
        .where(Message.bulk_job_id == job_id, Message.status == "pending")
        .values(status=pending_status, error_code=pending_code, error=pending_error)
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


def add_recipients(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert recipients (plain dicts of :class:`Message` columns) in chunks (no commit).

    Core ``INSERT`` with executemany: no ORM object per row.
    """
    table = _MESSAGES
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            session.execute(insert(table), chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)


def add_bulk_invalid(session: Session, *, job_id: str, invalid: Sequence[dict[str, str]]) -> None:
    """Record a bulk job's rejected numbers, in request order (no commit)."""
    table = _BULK_INVALID
    for start in range(0, len(invalid), _CHUNK):
        session.execute(
            insert(table),
            [
                {"bulk_job_id": job_id, "position": start + i, **item}
                for i, item in enumerate(invalid[start : start + _CHUNK])
            ],
        )


def list_bulk_invalid(
    session: Session, *, job_id: str, limit: int, offset: int
) -> tuple[list[dict[str, str]], int]:
    """A page of a bulk job's rejected numbers in request order, and how many there are."""
    count = session.scalar(
        select(func.count()).select_from(BulkInvalid).where(BulkInvalid.bulk_job_id == job_id)
    )
    rows = session.execute(
        select(BulkInvalid.number, BulkInvalid.reason)
        .where(BulkInvalid.bulk_job_id == job_id)
        .order_by(BulkInvalid.position)
        .limit(limit)
        .offset(offset)
    ).all()
    return [{"number": n, "reason": r} for n, r in rows], int(count or 0)


def pending_recipient_ids(session: Session, *, job_id: str) -> list[tuple[int, str]]:
    """``(id, to_number)`` of a bulk job's recipients without an outcome, in written order."""
    rows = session.execute(
        select(Message.id, Message.to_number)
        .where(Message.bulk_job_id == job_id, Message.status == "pending")
        .order_by(Message.id)
    ).all()
    return [(int(i), str(to)) for i, to in rows]


def record_recipient_sids(
    session: Session, rows: Sequence[dict[str, Any]], *, num_segments: int, at: datetime
) -> None:
    """Record accepted recipients (``{"_id", "sid"}`` each): SID, ``queued`` (no commit).

    One executemany ``UPDATE`` by primary key, only of rows still ``pending``. It is the
    hot path of a bulk job (one row per recipient): with a positional DB-API paramstyle
    (SQLite's ``?``, psycopg's ``%s``) the rows go to the driver's ``executemany`` as
    tuples, the timestamp converted once, which halves the time SQLAlchemy's per-row
    parameter processing takes.
    """
    if not rows:
        return
    table = _MESSAGES
    connection = session.connection()
    sql = _SID_UPDATES.get(connection.dialect.paramstyle)
    if sql is None or table.name != "messages":
        session.execute(
            update(table)
            .where(table.c.id == bindparam("_id"), table.c.status == "pending")
            .values(
                message_sid=bindparam("sid"),
                status="queued",
                sent_at=func.coalesce(table.c.sent_at, at),
                num_segments=num_segments,
                updated_at=at,
            ),
            list(rows),
        )
        return
    process = table.c.updated_at.type.bind_processor(connection.dialect)
    stamp = process(at) if process is not None else at
    connection.exec_driver_sql(
        sql, [(row["sid"], stamp, num_segments, stamp, row["_id"]) for row in rows]
    )


def record_recipient_failures(
    session: Session, rows: Sequence[dict[str, Any]], *, at: datetime
) -> None:
    """Record recipients not sent (``{"_id", "status", "code", "error"}`` each) (no commit)."""
    if not rows:
        return
    table = _MESSAGES
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.status == "pending")
        .values(
            status=bindparam("new_status"),
            error_code=bindparam("code"),
            error=bindparam("error"),
            updated_at=at,
        ),
        list(rows),
    )


def sids_with_status_events(session: Session, *, sids: Sequence[str]) -> set[str]:
    """Which of ``sids`` have stored status events (callbacks that came before the SID)."""
    found: set[str] = set()
    for start in range(0, len(sids), _IN_CHUNK):
        chunk = list(sids[start : start + _IN_CHUNK])
        found.update(
            str(sid)
            for sid in session.scalars(
                select(StatusEvent.message_sid).where(StatusEvent.message_sid.in_(chunk)).distinct()
            ).all()
        )
    return found
