"""In-app notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twiliocore_api.models import Notification

__all__ = ["create_notification", "list_notifications"]


def create_notification(
    session: Session, *, user_id: int, message: str, channels: list[dict[str, Any]]
) -> Notification:
    """Record an in-app notification."""
    notification = Notification(user_id=user_id, message=message, channels=channels)
    session.add(notification)
    session.commit()
    return notification


def list_notifications(
    session: Session, *, user_id: int, limit: int = 50, offset: int = 0
) -> tuple[Sequence[Notification], int]:
    """A user's notifications, newest first, and their total."""
    query = select(Notification).where(Notification.user_id == user_id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Notification.id.desc()).limit(limit).offset(offset)).all()
    return rows, count
