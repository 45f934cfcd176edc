"""Status tracking: Twilio's message statuses, forward only, from callbacks and look-ups.

:data:`STATUS_RANK` orders Twilio's message statuses and :func:`apply_status` never moves
a message backwards (``delivered`` stays delivered; ``failed``, ``undelivered``,
``canceled``, ``refused`` and ``read`` are final). A status callback may arrive before the
send's answer recorded the SID: it is stored as a status event first
(:func:`twiliocore_api.crud.add_status_event`), and :func:`catch_up` applies such events
once the SID is committed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, literal, update
from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.models import Message, utcnow

if TYPE_CHECKING:
    from twiliocore_api.services.config import MessagingRuntime

__all__ = [
    "FINAL_STATUSES",
    "MESSAGE_STATUSES",
    "STATUS_RANK",
    "apply_pending_events",
    "apply_status",
    "apply_status_update",
    "apply_status_updates",
    "catch_up",
    "describe_error_code",
    "refresh_status",
    "should_advance",
]

logger = logging.getLogger("twiliocore_api")

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
#: Every status a stored message can have, in lifecycle order (the history's ``status`` filter).
MESSAGE_STATUSES: tuple[str, ...] = tuple(sorted(STATUS_RANK, key=STATUS_RANK.__getitem__))
FINAL_STATUSES = frozenset({"failed", "undelivered", "canceled", "refused", "read", "received"})

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


def apply_status_update(
    session: Session, *, message_sid: str, status: str, error_code: int | None
) -> Message | None:
    """Apply a status to the message with this SID, if it is known yet (the caller commits).

    Returns the message, or ``None`` when no message has this SID (yet): the stored
    status event is then applied by :func:`catch_up` once the send records it.
    """
    message = crud.get_message_by_sid(session, message_sid=message_sid)
    if message is not None:
        apply_status(message, status=status, error_code=error_code)
    return message


@functools.lru_cache(maxsize=256)
def _statuses_that_stay(new: str) -> tuple[str, ...]:
    """The known statuses a message does not leave for ``new`` (see :func:`should_advance`)."""
    return tuple(status for status in STATUS_RANK if not should_advance(status, new))


def apply_status_updates(session: Session, updates: Sequence[tuple[str, str, int | None]]) -> None:
    """Apply many ``(message_sid, status, error_code)`` callbacks, forward only, in order.

    The batch form of :func:`apply_status_update`: each callback is one conditional
    ``UPDATE`` (``WHERE message_sid = ... AND status NOT IN`` the statuses it may not move
    on from), so the rule holds in the database itself, whatever another transaction wrote
    since the rows were read; runs of callbacks with the same status and error code go
    to the database as one ``executemany``. Callbacks about SIDs not recorded yet change
    nothing (:func:`catch_up` applies them). The caller commits.
    """
    table: Any = Message.__table__
    now = utcnow()
    at = literal(now, type_=table.c.sent_at.type)
    index = 0
    while index < len(updates):
        _, status, error_code = updates[index]
        status = status.strip().lower()
        end = index
        while end < len(updates) and (updates[end][1].strip().lower(), updates[end][2]) == (
            status,
            error_code,
        ):
            end += 1
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status in ("sent", "delivered", "read"):
            values["sent_at"] = func.coalesce(table.c.sent_at, at)
        if status in ("delivered", "read"):
            values["delivered_at"] = func.coalesce(table.c.delivered_at, at)
        if error_code is not None and status in ("failed", "undelivered"):
            values["error_code"] = error_code
            values["error"] = describe_error_code(error_code)
        statement = (
            update(table)
            .where(table.c.message_sid == bindparam("b_sid"))
            # Plain binds, not an expanding IN: the statement runs as an executemany.
            .where(and_(*(table.c.status != literal(kept) for kept in _statuses_that_stay(status))))
            .values(**values)
        )
        session.execute(statement, [{"b_sid": sid} for sid, _, _ in updates[index:end]])
        index = end


def apply_pending_events(session: Session, *, message: Message) -> None:
    """Apply callbacks that arrived before the send's answer recorded the SID."""
    if message.message_sid is None:
        return
    for event in crud.list_status_events(session, message_sid=message.message_sid):
        apply_status(message, status=event.status, error_code=event.error_code)


def catch_up(session: Session, messages: Iterable[Message]) -> None:
    """Apply status callbacks that arrived before the SIDs were committed, and commit.

    Runs in a transaction that starts after the SIDs were committed; the webhook stores
    its event and commits before it looks the message up, so one of the two always sees
    the other.
    """
    changed = False
    for message in messages:
        if message.message_sid is not None:
            apply_pending_events(session, message=message)
            changed = True
    if changed:
        session.commit()


def refresh_status(runtime: MessagingRuntime, session: Session, message: Message) -> None:
    """Ask Twilio for a non-final outbound message's status and apply it (forward only).

    Best effort: when Twilio cannot be asked, the stored status stands (and a warning
    naming the error class is logged).
    """
    if (
        message.message_sid is None
        or message.direction != "outbound-api"
        or message.status in FINAL_STATUSES
        or message.status == "delivered"
    ):
        return
    try:
        fetched = runtime.client().messages(message.message_sid).fetch()
    except Exception as exc:  # refreshing is best effort; the stored status stands
        logger.warning("status refresh of %s failed: %s", message.message_sid, type(exc))
        return
    if fetched.status:
        apply_status(message, status=fetched.status, error_code=fetched.error_code)
        session.commit()
