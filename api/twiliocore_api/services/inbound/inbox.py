"""The inbox: webhooks taken fast and durably, applied in batches on one thread.

Twilio retries a callback only a few times, each after a timeout: a receipt not taken
quickly is lost. So the webhook routes do no database work of their own. They check the
signature, parse the event and :meth:`Inbox.submit` it; the inbox thread

1. takes everything submitted since its last round (at most ``batch_size``) and stores it
   in one transaction: status callbacks de-duplicated (``I-Twilio-Idempotency-Token``,
   then message + status + error code) and appended to ``status_events`` not yet applied;
   inbound messages through :meth:`InboundPipeline.receive` (stored, then handled);
2. applies the oldest unapplied status events, up to ``batch_size``, through the
   pipeline's status handlers (delivery tracking in one statement per run of equal
   statuses), marks them applied and commits;
3. answers the round's submissions: after step 2 when applying keeps up (a webhook's
   effect is visible when it is answered), right after step 1 when a backlog is being
   applied.

A submission is answered only once its event is committed, so a 2xx always means stored;
events stored but not applied when the process stops are applied by the next start.

Usage::

    inbox = Inbox(session_factory, pipeline)
    inbox.start()
    await inbox.submit(event, idempotency_token=token)   # in a route
    inbox.stop()
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from twiliocore_api import crud
from twiliocore_api.services.inbound.events import InboundMessage, StatusUpdate
from twiliocore_api.services.inbound.pipeline import Event, InboundPipeline, status_receipt

__all__ = ["Inbox", "InboxUnavailable"]

logger = logging.getLogger("twiliocore_api")


class InboxUnavailable(RuntimeError):
    """Raised by :meth:`Inbox.submit` when the inbox is stopped or could not store the event."""


@dataclass
class _Submission:
    event: Event
    token: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    error: BaseException | None = field(default=None)


def _answer(submission: _Submission) -> None:
    def settle() -> None:
        if submission.future.done():
            return  # the request gave up waiting
        if submission.error is None:
            submission.future.set_result(None)
        else:
            submission.future.set_exception(submission.error)

    try:
        submission.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the request's loop is closed: nobody waits
        pass


class Inbox:
    """Stores webhook events many at a time and applies status events in batches.

    Thread-safe: :meth:`submit` may be awaited from any event loop; one thread of the
    inbox's own does the database work on one connection.

    Args:
        session_factory: sessions on the service's database.
        pipeline: the inbound pipeline whose handlers run on the events.
        batch_size: the most events stored or applied in one transaction.
        idle_seconds: how often an idle inbox looks for events left unapplied (another
            process on the database may have stored them).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        pipeline: InboundPipeline,
        *,
        batch_size: int = 500,
        idle_seconds: float = 1.0,
    ) -> None:
        self.session_factory = session_factory
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the inbox thread (it first applies what an earlier run left unapplied)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="twiliocore-inbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the submissions already taken and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._queue.put(None)
        thread.join(timeout)
        self._thread = None
        self._fail_waiting()

    async def submit(self, event: Event, *, idempotency_token: str | None = None) -> None:
        """Store ``event`` (and apply it, unless a backlog is being applied); wait for it.

        Raises:
            InboxUnavailable: the inbox is stopped, or storing failed (the webhook should
                answer 5xx so that Twilio retries).
        """
        if self._thread is None or self._stopping.is_set():
            raise InboxUnavailable("the inbox is not running")
        loop = asyncio.get_running_loop()
        submission = _Submission(event, idempotency_token, loop, loop.create_future())
        self._queue.put(submission)
        await submission.future

    # ------------------------------------------------------------------ the inbox thread

    def _run(self) -> None:
        backlog = True  # apply what a previous run left before waiting for anything
        while True:
            taken = self._take(wait=not backlog)
            if taken is None:
                break
            if taken:
                self._store(taken)
            if backlog:
                # Applying is behind: answer as soon as stored, so that no webhook waits
                # for a batch it is not in.
                self._answer_all(taken)
                taken = []
            try:
                backlog = self._apply_batch() >= self.batch_size
            except Exception as exc:  # the events stay unapplied; the next round retries
                logger.error("inbox: applying status events failed (%s)", type(exc).__name__)
                logger.debug("inbox failure", exc_info=True)
                backlog = False
                self._stopping.wait(0.2)
            self._answer_all(taken)

    @staticmethod
    def _answer_all(taken: list[_Submission]) -> None:
        for submission in taken:
            _answer(submission)

    def _take(self, *, wait: bool) -> list[_Submission] | None:
        """The submissions waiting (the first awaited up to ``idle_seconds`` if ``wait``)."""
        taken: list[_Submission] = []
        try:
            first = self._queue.get(timeout=self.idle_seconds) if wait else self._queue.get_nowait()
        except queue.Empty:
            return None if self._stopping.is_set() else taken
        if first is None:
            return None
        taken.append(first)
        while len(taken) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # seen again after this round
                break
            taken.append(item)
        return taken

    def _store(self, taken: list[_Submission]) -> None:
        statuses = [s for s in taken if isinstance(s.event, StatusUpdate)]
        if statuses:
            try:
                with self.session_factory() as session:
                    tokens = [s for s in statuses if s.token]
                    claimed = crud.claim_webhook_tokens(
                        session, [s.token or "" for s in tokens], kind="status"
                    )
                    repeated = {id(s) for s, new in zip(tokens, claimed, strict=True) if not new}
                    # A repeated delivery is acknowledged, not applied.
                    fresh = [
                        status_receipt(s.event)
                        for s in statuses
                        if id(s) not in repeated and isinstance(s.event, StatusUpdate)
                    ]
                    crud.append_status_events(session, fresh)
                    session.commit()
            except Exception as exc:
                logger.error("inbox: storing status callbacks failed (%s)", type(exc).__name__)
                logger.debug("inbox failure", exc_info=True)
                for submission in statuses:
                    submission.error = InboxUnavailable("the status callback was not stored")
        for submission in taken:
            if isinstance(submission.event, InboundMessage):
                try:
                    with self.session_factory() as session:
                        self.pipeline.receive(
                            session, submission.event, idempotency_token=submission.token
                        )
                except Exception as exc:
                    logger.error("inbox: storing a message failed (%s)", type(exc).__name__)
                    logger.debug("inbox failure", exc_info=True)
                    submission.error = InboxUnavailable("the message was not stored")

    def _apply_batch(self) -> int:
        """Apply the oldest unapplied status events; how many there were."""
        with self.session_factory() as session:
            rows = crud.pending_status_events(session, limit=self.batch_size)
            if not rows:
                return 0
            ids = [row.id for row in rows]
            events = [
                StatusUpdate(
                    message_sid=row.message_sid,
                    message_status=row.status,
                    error_code=row.error_code,
                )
                for row in rows
            ]
            session.expunge_all()
            self.pipeline.handle_status(session, events)
            crud.mark_status_events_applied(session, ids)
            session.commit()
            return len(ids)

    def _fail_waiting(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item.error = InboxUnavailable("the service is stopping")
                _answer(item)
