"""Status callbacks as received, kept so that one which beats the send's answer still counts.

Each callback the webhook takes is stored once under its receipt key (message SID, status,
error code: what the signature covers that makes the event), waiting ``applied = false``
until the batch applier has moved its message on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import insert_new
from twiliocore_api.models import StatusEvent

__all__ = [
    "StatusReceipt",
    "add_status_event",
    "append_status_events",
    "list_status_events",
    "mark_status_events_applied",
    "pending_status_events",
    "receipt_key",
    "store_status_event",
]


@dataclass(frozen=True)
class StatusReceipt:
    """One status callback to store: the message, its status and error code."""

    message_sid: str
    status: str
    error_code: int | None = None

    @property
    def key(self) -> str:
        """Its receipt key (see :func:`receipt_key`)."""
        return receipt_key(self.message_sid, self.status, self.error_code)


def receipt_key(message_sid: str, status: str, error_code: int | None) -> str:
    """The key a status callback is stored once under: ``SID:status:code``.

    At most 34 + 24 + 11 characters plus separators, within the column's 80.
    """
    return f"{message_sid}:{status}:{'' if error_code is None else error_code}"


def add_status_event(
    session: Session, *, message_sid: str, status: str, error_code: int | None
) -> StatusEvent:
    """Add a received status callback to the session without a receipt key (the caller commits)."""
    event = StatusEvent(message_sid=message_sid, status=status, error_code=error_code)
    session.add(event)
    return event


def store_status_event(session: Session, receipt: StatusReceipt, *, applied: bool) -> bool:
    """Store one callback under its receipt key; False when that event is stored already.

    Runs in a savepoint, so a duplicate leaves the caller's transaction usable.
    """
    try:
        with session.begin_nested():
            session.add(
                StatusEvent(
                    message_sid=receipt.message_sid,
                    status=receipt.status,
                    error_code=receipt.error_code,
                    receipt_key=receipt.key,
                    applied=applied,
                )
            )
    except IntegrityError:
        return False
    return True


def append_status_events(session: Session, receipts: Sequence[StatusReceipt]) -> list[bool]:
    """Store many callbacks, not yet applied, in one statement; which ones were new.

    A receipt whose key is stored already (or repeated earlier in ``receipts``) is left
    out. The caller commits.

    Returns:
        For each receipt, in order, whether it was stored by this call.
    """
    fresh: dict[str, StatusReceipt] = {}
    for receipt in receipts:
        fresh.setdefault(receipt.key, receipt)
    if not fresh:
        return []
    rows: list[dict[str, Any]] = [
        {
            "message_sid": r.message_sid,
            "status": r.status,
            "error_code": r.error_code,
            "receipt_key": key,
            "applied": False,
        }
        for key, r in fresh.items()
    ]
    stored = insert_new(session, StatusEvent, rows, key="receipt_key")
    if stored is None:
        stored = {key for key, r in fresh.items() if store_status_event(session, r, applied=False)}
    answer: list[bool] = []
    for receipt in receipts:
        key = receipt.key
        answer.append(key in stored)
        stored.discard(key)  # a repeat within the call is not new
    return answer


def pending_status_events(session: Session, *, limit: int) -> Sequence[StatusEvent]:
    """The oldest events not applied yet, at most ``limit``, in arrival order."""
    return session.scalars(
        select(StatusEvent)
        .where(StatusEvent.applied.is_(False))
        .order_by(StatusEvent.id)
        .limit(limit)
    ).all()


def mark_status_events_applied(session: Session, ids: Iterable[int]) -> None:
    """Mark events applied (the caller commits)."""
    values = list(ids)
    for start in range(0, len(values), 500):
        session.execute(
            update(StatusEvent)
            .where(StatusEvent.id.in_(values[start : start + 500]))
            .values(applied=True)
        )


def list_status_events(session: Session, *, message_sid: str) -> Sequence[StatusEvent]:
    """The status callbacks received for a message, in arrival order."""
    return session.scalars(
        select(StatusEvent).where(StatusEvent.message_sid == message_sid).order_by(StatusEvent.id)
    ).all()
