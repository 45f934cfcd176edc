"""Status callbacks as received, kept so that one which beats the send's answer still counts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from twiliocore_api.models import StatusEvent

__all__ = ["add_status_event", "list_status_events"]


def add_status_event(
    session: Session, *, message_sid: str, status: str, error_code: int | None
) -> StatusEvent:
    """Add a received status callback to the session (the caller commits)."""
    event = StatusEvent(message_sid=message_sid, status=status, error_code=error_code)
    session.add(event)
    return event


def list_status_events(session: Session, *, message_sid: str) -> Sequence[StatusEvent]:
    """The status callbacks received for a message, in arrival order."""
    return session.scalars(
        select(StatusEvent).where(StatusEvent.message_sid == message_sid).order_by(StatusEvent.id)
    ).all()
