"""Reconciliation: find messages whose create answer was lost in Twilio's message log.

Twilio's create has no idempotency key, so a send whose answer was lost after the
request left (the connection dropped, a timeout, the process stopped) may or may not have
created a message. Sending again could send twice; calling it ``failed`` could be wrong.
Instead the sender's messages created since the send are listed from Twilio and matched
by recipient and content (body, media), skipping SIDs already recorded on other rows.
Found: its SID and status are recorded (status callbacks then attach by SID). Not found:
the caller decides (a bulk job sends it; a single send is looked up again after Twilio's
list lag, then recorded ``failed``).

Bulk jobs use it when they resume (:mod:`twiliocore_api.services.bulk`); single sends
through :class:`SendReconciler`, a job kind of the job queue (``reconcile_send``), so a
reconciliation survives restarts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import twiliocore
from sqlalchemy.orm import Session, sessionmaker

from twiliocore_api import crud
from twiliocore_api.models import Message, utcnow
from twiliocore_api.services.status import apply_pending_events, apply_status
from twiliocore_api.worker import JobQueue, Lease, RetryLater

__all__ = [
    "CLOCK_SLACK",
    "RECONCILE_SEND",
    "SendReconciler",
    "find_created",
    "record_found",
    "same_content",
]

logger = logging.getLogger("twiliocore_api")

#: The queue job kind that reconciles one single send (its ``ref`` is the message id).
RECONCILE_SEND = "reconcile_send"
#: Twilio's clock and ours may differ: look for messages created a little before the send.
CLOCK_SLACK = timedelta(minutes=1)
# Consecutive listed messages older than the window after which the listing stops.
_OLDER_RUN = 1000
# Look-ups of a single send before "not found" is final, and the delays before each:
# Twilio's message list can lag the create by some seconds.
_SEND_LOOKUPS = 4
_SEND_DELAYS = (2.0, 4.0, 8.0, 16.0)


def _strip_channel(address: str | None) -> str:
    address = address or ""
    return address[len("whatsapp:") :] if address.startswith("whatsapp:") else address


def _int_or_none(value: object) -> int | None:
    try:
        return None if value in (None, "") else int(str(value))
    except ValueError:
        return None


def same_content(item: Any, body: str, media_url: str | None) -> bool:
    """Whether a listed message carries this content (a Messaging Service may append)."""
    text = item.body or ""
    if not (text == body or text.startswith(body)):
        return False
    return (
        (_int_or_none(item.num_media) or 0) > 0 if media_url else not _int_or_none(item.num_media)
    )


def find_created(
    client: Any,
    *,
    sender: str,
    kind: str,
    body: str,
    media_url: str | None,
    since: datetime,
    wanted: Mapping[str, object],
) -> dict[str, list[Any]]:
    """The sender's messages created since ``since`` to ``wanted`` numbers with this content.

    Returns ``{number: [listed message, ...]}``, newest first as Twilio lists them.

    Raises:
        twiliocore.TwilioCoreError: the message log could not be read.
    """
    address = f"whatsapp:{sender}" if kind == "whatsapp" else sender
    since = since - CLOCK_SLACK
    found: dict[str, list[Any]] = {}
    older = 0
    for item in client.messages.stream(from_=address, page_size=1000):
        if item.date_created is not None and item.date_created < since:
            older += 1
            if older >= _OLDER_RUN:
                break
            continue
        older = 0
        to = _strip_channel(item.to)
        if to in wanted and same_content(item, body, media_url):
            found.setdefault(to, []).append(item)
    return found


def record_found(
    session: Session, rows: Mapping[str, int], found: Mapping[str, list[Any]], *, waiting: str
) -> list[Message]:
    """Record found messages on their rows (``{number: message id}``) still in ``waiting``.

    Each row takes the earliest listed message not recorded on another row. Commits, then
    applies status callbacks that arrived before the SIDs were recorded (commits again).
    Returns the rows that were settled.
    """
    taken = crud.recorded_sids(
        session, sids=[m.sid for items in found.values() for m in items if m.sid]
    )
    settled: list[Message] = []
    for to, items in found.items():
        free = [m for m in items if m.sid and m.sid not in taken]
        message = session.get(Message, rows[to]) if to in rows else None
        if not free or message is None or message.status != waiting:
            continue
        created = free[-1]  # the listing is newest first: the earliest match
        assert created.sid is not None
        taken.add(created.sid)
        message.message_sid = created.sid
        message.sent_at = message.sent_at or created.date_created or utcnow()
        message.num_segments = _int_or_none(created.num_segments)
        message.error = None
        message.error_code = None
        apply_status(message, status="queued")
        if created.status:
            apply_status(message, status=created.status, error_code=created.error_code)
        settled.append(message)
    session.commit()
    for message in settled:
        apply_pending_events(session, message=message)
    session.commit()
    return settled


class SendReconciler:
    """Reconciles single sends whose outcome is unknown, on the job queue.

    Usage::

        reconciler = SendReconciler(messenger, session_factory, queue, wake=worker.wake)
        worker.register(RECONCILE_SEND, reconciler.run, abandon=reconciler.abandon)
        reconciler.enqueue(session, message_id)  # in the transaction recording `unknown`

    Thread-safe.

    Args:
        messenger: the service's messaging layer (its client lists Twilio's messages).
        session_factory: makes database sessions.
        queue: the job queue.
        wake: called after a job was enqueued and committed (tells the worker to look).
    """

    def __init__(
        self,
        messenger: Any,
        session_factory: sessionmaker[Session],
        queue: JobQueue,
        *,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.messenger = messenger
        self.session_factory = session_factory
        self.queue = queue
        self.wake = wake

    def enqueue(self, session: Session, message_id: int) -> None:
        """Queue the reconciliation of ``message_id``, due after Twilio's list lag (no commit)."""
        self.queue.enqueue(
            session,
            RECONCILE_SEND,
            ref=str(message_id),
            run_at=utcnow() + timedelta(seconds=_SEND_DELAYS[0]),
        )

    def wake_worker(self) -> None:
        """Tell the worker to look at the queue (after the enqueueing transaction committed)."""
        if self.wake is not None:
            self.wake()

    def adopt_lost_sends(self, *, older_than: timedelta) -> int:
        """Single sends left ``pending`` by a stopped process: ``unknown``, then reconciled.

        Only rows older than any request could take, as another process may share the
        database. Returns how many.
        """
        with self.session_factory() as session:
            ids = crud.mark_lost_sends(session, older_than=older_than, error=_UNKNOWN_RESTART)
            for message_id in ids:
                self.enqueue(session, message_id)
            session.commit()
        return len(ids)

    def run(self, lease: Lease, stop: threading.Event) -> bool:
        """Look the send ``lease.ref`` up at Twilio; the worker's ``reconcile_send`` handler.

        Raises:
            RetryLater: not found yet (Twilio's list may lag), or Twilio could not be asked.
        """
        message_id = int(str(lease.ref))
        with self.session_factory() as session:
            message = session.get(Message, message_id)
            if message is None or message.status != "unknown" or message.message_sid:
                return True
            sender = message.from_number
            kind, body, media_url = message.type, message.body, message.media_url
            since, to = message.created_at, message.to_number
        if sender is None:
            self._fail(message_id, "no sender was recorded: the message was not sent")
            return True
        try:
            found = find_created(
                self.messenger.client(),
                sender=sender,
                kind=kind,
                body=body,
                media_url=media_url,
                since=since,
                wanted={to: message_id},
            )
        except twiliocore.TwilioCoreError as exc:
            raise RetryLater(
                f"Twilio's message log could not be read to reconcile message {message_id}: "
                f"{type(exc).__name__}",
                delay=_SEND_DELAYS[-1],
            ) from exc
        with self.session_factory() as session:
            settled = record_found(session, {to: message_id}, found, waiting="unknown")
        if settled:
            logger.warning(
                "message %s: its answer was lost; found at Twilio as %s",
                message_id,
                settled[0].message_sid,
            )
            return True
        if lease.attempt < _SEND_LOOKUPS:
            raise RetryLater(
                f"message {message_id} not in Twilio's message log yet",
                delay=_SEND_DELAYS[min(lease.attempt, len(_SEND_DELAYS) - 1)],
            )
        logger.warning("message %s: its answer was lost; not created at Twilio", message_id)
        self._fail(
            message_id,
            "not created at Twilio: the answer to the send was lost and Twilio's message log "
            f"shows no such message after {lease.attempt} look-ups",
        )
        return True

    def abandon(self, ref: str | None, error: str) -> None:
        """The queue gave the reconciliation up: the message stays ``unknown``, saying so."""
        if ref is None:
            return
        with self.session_factory() as session:
            message = session.get(Message, int(ref))
            if message is not None and message.status == "unknown" and not message.message_sid:
                message.error = (
                    "the answer to the send was lost and Twilio's message log could not be "
                    f"read to reconcile it ({error}); check the message log at Twilio"
                )
                session.commit()

    def _fail(self, message_id: int, error: str) -> None:
        with self.session_factory() as session:
            message = session.get(Message, message_id)
            if message is not None and message.status == "unknown" and not message.message_sid:
                message.status = "failed"
                message.error = error
                message.error_code = None
                session.commit()


#: Why a send was ``unknown`` after a restart.
_UNKNOWN_RESTART = (
    "the service stopped before Twilio's answer was recorded: the message may have been "
    "sent; it is being reconciled with Twilio's message log"
)
