"""Database operations: keyword-only functions taking the session first.

Status handling lives here: :data:`STATUS_RANK` orders Twilio's message statuses and
:func:`apply_status` never moves a message backwards (``delivered`` stays delivered;
``failed``, ``undelivered``, ``canceled``, ``refused`` and ``read`` are final).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from twiliocore_api.core.security import hash_password, verify_password
from twiliocore_api.models import (
    BulkJob,
    Message,
    Notification,
    OptOut,
    SmsSettings,
    StatusEvent,
    User,
    WebhookEvent,
    utcnow,
)

__all__ = [
    "FINAL_STATUSES",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "STATUS_RANK",
    "apply_pending_events",
    "apply_status",
    "authenticate",
    "claim_webhook_token",
    "create_message",
    "create_notification",
    "create_user",
    "describe_error_code",
    "get_bulk_job",
    "get_message_by_sid",
    "get_sms_settings",
    "get_user_by_email",
    "is_opted_out",
    "is_storable",
    "list_messages",
    "list_notifications",
    "opted_out_among",
    "record_status_event",
    "set_opt_out",
    "should_advance",
]

# Twilio's message statuses in lifecycle order. `refused` is ours: a send the service
# declined (recipient opted out); `pending` is ours too: written, not yet answered.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "scheduled": 1,
    "accepted": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "receiving": 4,
    "received": 5,
    "partially_delivered": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
    "refused": 6,
    "unknown": 1,
    "read": 7,
}
FINAL_STATUSES = frozenset({"failed", "undelivered", "canceled", "refused", "read", "received"})

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})

_ERROR_WORDS: dict[int, str] = {
    20003: "authentication failed: check the account SID and auth token",
    20404: "the resource was not found",
    20429: "too many concurrent requests to Twilio",
    21211: "the 'To' number is not a valid phone number",
    21212: "the 'From' number is not a valid phone number",
    21408: "sending to this region is not enabled on the account",
    21606: "the 'From' number is not an SMS-capable number of this account",
    21610: "the recipient has opted out (replied STOP)",
    21611: "the sender's queue at Twilio is full",
    21612: "Twilio cannot route to this number",
    21614: "the 'To' number is not a mobile number",
    21617: "the message body is over 1600 characters",
    30003: "the handset is unreachable",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown delivery error",
}


def describe_error_code(code: int | None) -> str | None:
    """Twilio's error code in words (``None`` for no code)."""
    if code is None:
        return None
    words = _ERROR_WORDS.get(code, "see Twilio's error reference")
    return f"Twilio error {code}: {words} (https://www.twilio.com/docs/errors/{code})"


def is_storable(text: str, *, max_length: int) -> bool:
    """True when ``text`` fits a ``String(max_length)`` column on every supported database.

    PostgreSQL refuses U+0000 in text and values longer than the column, where SQLite
    accepts both: lookups and inserts check first, so such input is "not found" or a
    clear error there too, never a database exception.
    """
    return len(text) <= max_length and "\x00" not in text


# ---------------------------------------------------------------------------- users


def get_user_by_email(session: Session, *, email: str) -> User | None:
    """The user with this e-mail (case-insensitive), or ``None``."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str = "user",
    phone_number: str | None = None,
) -> User:
    """Create a user with an argon2-hashed password; raises ``IntegrityError`` on a duplicate."""
    user = User(
        email=email.strip().lower(),
        hashed_password=hash_password(password),
        role=role,
        phone_number=phone_number,
        is_active=True,
        sms_enabled=True,
        whatsapp_enabled=False,
    )
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``."""
    user = get_user_by_email(session, email=email)
    if user is None:
        # Same work as a real check, so timing does not reveal which e-mails exist.
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.hashed_password) or not user.is_active:
        return None
    return user


_DUMMY_HASH = hash_password("not a real password")


# ---------------------------------------------------------------------------- settings


def get_sms_settings(session: Session) -> SmsSettings | None:
    """The stored Twilio settings row, if any."""
    return session.get(SmsSettings, 1)


# ---------------------------------------------------------------------------- messages


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


def get_bulk_job(session: Session, *, job_id: str) -> BulkJob | None:
    """The bulk job with this id, or ``None`` (also for text no job id can be)."""
    if not is_storable(job_id, max_length=36):
        return None
    return session.get(BulkJob, job_id)


def should_advance(current: str, new: str) -> bool:
    """True when a message in status ``current`` may move to ``new``."""
    if current == new or current in FINAL_STATUSES:
        return False
    if current == "delivered":
        return new == "read"
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current, 0)


def apply_status(
    message: Message,
    *,
    status: str,
    error_code: int | None = None,
    at: datetime | None = None,
) -> bool:
    """Move ``message`` to ``status`` if that is forward; returns whether it changed."""
    status = status.strip().lower()
    if not should_advance(message.status, status):
        return False
    at = at or utcnow()
    message.status = status
    if status in ("sent", "delivered", "read") and message.sent_at is None:
        message.sent_at = at
    if status in ("delivered", "read") and message.delivered_at is None:
        message.delivered_at = at
    if error_code is not None and status in ("failed", "undelivered"):
        message.error_code = error_code
        message.error = describe_error_code(error_code)
    return True


def record_status_event(
    session: Session, *, message_sid: str, status: str, error_code: int | None
) -> Message | None:
    """Store a status callback and apply it to its message if that is known yet."""
    session.add(StatusEvent(message_sid=message_sid, status=status, error_code=error_code))
    message = get_message_by_sid(session, message_sid=message_sid)
    if message is not None:
        apply_status(message, status=status, error_code=error_code)
    return message


def apply_pending_events(session: Session, *, message: Message) -> None:
    """Apply callbacks that arrived before the send's answer recorded the SID."""
    if message.message_sid is None:
        return
    events = session.scalars(
        select(StatusEvent)
        .where(StatusEvent.message_sid == message.message_sid)
        .order_by(StatusEvent.id)
    ).all()
    for event in events:
        apply_status(message, status=event.status, error_code=event.error_code)


def list_messages(
    session: Session,
    *,
    user_id: int | None,
    type_: str | None = None,
    status: str | None = None,
    to: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Message], int]:
    """A page of messages, newest first, and the total matching; ``user_id=None`` means all."""
    query = select(Message)
    if user_id is not None:
        query = query.where(Message.user_id == user_id)
    if type_ is not None:
        query = query.where(Message.type == type_)
    if status is not None:
        query = query.where(Message.status == status)
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


# ---------------------------------------------------------------------------- webhooks


def claim_webhook_token(session: Session, *, token: str, kind: str) -> bool:
    """Record an idempotency token; False when it was already processed.

    Runs in a savepoint so a duplicate leaves the caller's transaction usable. A token
    too long for the column (or with U+0000) is kept as its SHA-256.
    """
    if not is_storable(token, max_length=255):
        token = "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        with session.begin_nested():
            session.add(WebhookEvent(token=token, kind=kind))
    except IntegrityError:
        return False
    return True


def is_opted_out(session: Session, *, phone_number: str) -> bool:
    """True when the number replied STOP and has not opted back in."""
    row = session.get(OptOut, phone_number)
    return bool(row and row.opted_out)


def opted_out_among(session: Session, *, phone_numbers: Sequence[str]) -> set[str]:
    """The numbers of ``phone_numbers`` that are opted out (queried in chunks)."""
    found: set[str] = set()
    for start in range(0, len(phone_numbers), 500):
        chunk = list(phone_numbers[start : start + 500])
        found.update(
            session.scalars(
                select(OptOut.phone_number).where(
                    OptOut.phone_number.in_(chunk), OptOut.opted_out.is_(True)
                )
            )
        )
    return found


def set_opt_out(session: Session, *, phone_number: str, opted_out: bool, keyword: str) -> None:
    """Record an opt-out (STOP...) or opt-in (START...) for a number."""
    row = session.get(OptOut, phone_number)
    if row is None:
        session.add(OptOut(phone_number=phone_number, opted_out=opted_out, keyword=keyword))
    else:
        row.opted_out = opted_out
        row.keyword = keyword


# ---------------------------------------------------------------------------- notifications


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
