"""Messages, outbound and inbound: insert, look-up by SID, history pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import is_storable
from twiliocore_api.models import Message, utcnow

__all__ = [
    "create_message",
    "get_message_by_sid",
    "list_messages",
    "mark_lost_sends",
]


def create_message(session: Session, **fields: Any) -> Message:
    """Insert a message and commit, so it is recorded before anything is sent."""
    message = Message(**fields)
    session.add(message)
    session.commit()
    return message


def get_message_by_sid(session: Session, *, message_sid: str) -> Message | None:
    """The message with this SID, or ``None`` (also for text no stored SID can be)."""
    if not is_storable(message_sid, max_length=34):
        return None
    return session.scalar(select(Message).where(Message.message_sid == message_sid))


def list_messages(
    session: Session,
    *,
    user_id: int | None,
    type_: str | None = None,
    status: str | None = None,
    direction: str | None = None,
    to: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Message], int]:
    """A page of messages, newest first, and the total matching; ``user_id=None`` means all.

    ``direction`` is ``"inbound"`` or ``"outbound"`` (every ``outbound-*`` direction).
    """
    query = select(Message)
    if user_id is not None:
        query = query.where(Message.user_id == user_id)
    if type_ is not None:
        query = query.where(Message.type == type_)
    if status is not None:
        query = query.where(Message.status == status)
    if direction == "inbound":
        query = query.where(Message.direction == "inbound")
    elif direction == "outbound":
        query = query.where(Message.direction.startswith("outbound"))
    if to is not None:
        query = query.where(Message.to_number == to)
    if date_from is not None:
        query = query.where(Message.created_at >= date_from)
    if date_to is not None:
        query = query.where(Message.created_at <= date_to)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, count


def mark_lost_sends(session: Session, *, older_than: timedelta, error: str) -> list[int]:
    """Single sends left ``pending`` for longer than any request takes become ``unknown``.

    Their process stopped between recording them and recording Twilio's answer: sent or
    not, nobody knows until Twilio's message log is read. No commit; returns their ids.
    """
    ids = list(
        session.scalars(
            select(Message.id).where(
                Message.status == "pending",
                Message.bulk_job_id.is_(None),
                Message.created_at < utcnow() - older_than,
            )
        ).all()
    )
    for start in range(0, len(ids), 500):
        session.execute(
            update(Message)
            .where(Message.id.in_(ids[start : start + 500]), Message.status == "pending")
            .values(status="unknown", error=error)
        )
    return ids
