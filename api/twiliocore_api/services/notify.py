"""Notify a user by their preferences: SMS, WhatsApp, and always an in-app notification.

Workflow code inside the service process calls :func:`notify_user`; the route
``POST /api/notifications`` calls :func:`notify` with its request's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.schemas import NotificationCreate
from twiliocore_api.services import sends
from twiliocore_api.services.config import (
    MessagingRuntime,
    MessengerUnavailable,
    running_runtime,
)

__all__ = ["ChannelOutcome", "Notified", "notify", "notify_user"]


@dataclass(frozen=True)
class ChannelOutcome:
    """How one channel of a notification went.

    ``attempted`` channels (a send was made) carry ``message_sid``, ``status`` and
    ``error``; a channel that could not be tried carries only its ``error``.
    """

    channel: str
    success: bool
    attempted: bool = False
    message_sid: str | None = None
    status: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stored (and returned) form: only the keys that apply to this channel."""
        out: dict[str, Any] = {"channel": self.channel, "success": self.success}
        if self.attempted:
            out.update(message_sid=self.message_sid, status=self.status, error=self.error)
        elif self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class Notified:
    """A recorded notification and how each channel went."""

    id: int
    user_id: int
    message: str
    channels: list[dict[str, Any]]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "user_id", "message", "channels", "created_at"}``."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "message": self.message,
            "channels": self.channels,
            "created_at": self.created_at,
        }


def checked_notification(user_id: object, message: object) -> NotificationCreate:
    """``notify_user``'s arguments checked as ``POST /api/notifications`` checks its body.

    Raises:
        ValueError: naming the field and the reason.
    """
    try:
        return NotificationCreate.model_validate({"user_id": user_id, "message": message})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{field}: {first['msg']}") from None


def notify(
    runtime: MessagingRuntime, session: Session, *, user_id: object, message: object
) -> Notified:
    """Send ``message`` to a user by their preferences and record an in-app notification.

    SMS goes out when ``sms_enabled``, WhatsApp when ``whatsapp_enabled``, both to the
    user's ``phone_number``; without a number only the in-app notification is recorded.

    Raises:
        ValueError: ``user_id`` is not an id, or ``message`` is empty, blank, over
            1600 characters or holds U+0000 (the message says which and why).
        LookupError: no such user.
    """
    checked = checked_notification(user_id, message)
    user = crud.get_user(session, user_id=checked.user_id)
    if user is None:
        raise LookupError(f"user_id: no user {checked.user_id}")
    channels: list[ChannelOutcome] = []
    for kind, enabled in (("sms", user.sms_enabled), ("whatsapp", user.whatsapp_enabled)):
        if not enabled:
            continue
        missing = runtime.missing_sender(kind)
        if not user.phone_number or missing:
            error = missing if user.phone_number else "no phone_number set"
            channels.append(ChannelOutcome(kind, success=False, error=error))
            continue
        _row, outcome = sends.send(
            runtime,
            session,
            user_id=user.id,
            kind=kind,
            to_number=user.phone_number,
            body=checked.message,
        )
        channels.append(
            ChannelOutcome(
                kind,
                success=outcome.success,
                attempted=True,
                message_sid=outcome.message_sid,
                status=outcome.status,
                error=outcome.error,
            )
        )
    channels.append(ChannelOutcome("in_app", success=True))
    note = crud.create_notification(
        session,
        user_id=user.id,
        message=checked.message,
        channels=[channel.to_dict() for channel in channels],
    )
    return Notified(note.id, user.id, note.message, note.channels, note.created_at)


def notify_user(user_id: int, message: str, *, app: Any = None) -> dict[str, Any]:
    """Notify a user through the running service, by their preferences (SMS, WhatsApp, in-app).

    For workflow code running inside the service process (route handlers, background
    tasks). From another process, ``POST /api/notifications`` does the same.

    Args:
        user_id: the user to notify.
        message: the text (SMS/WhatsApp body and in-app notification).
        app: the service's app when several run in one process; default the one
            started last.

    Returns:
        ``{"id", "user_id", "message", "channels": [{"channel", "success",
        "message_sid", "status", "error"}], "created_at"}``.

    Raises:
        MessengerUnavailable: the service is not running in this process.
        ValueError: ``user_id`` or ``message`` is not valid (the message says why).
        LookupError: no such user.
    """
    runtime: MessagingRuntime | None = getattr(getattr(app, "state", None), "messenger", None)
    if runtime is None:
        runtime = running_runtime()
    if runtime is None:
        raise MessengerUnavailable("notify_user needs the running twiliocore service")
    with runtime.session_factory() as session:
        return notify(runtime, session, user_id=user_id, message=message).to_dict()
