"""Bulk jobs: recorded first, run by the job queue's worker, resumed without sending twice.

:meth:`BulkJobs.start` writes the job, one ``pending`` message per recipient and a
``bulk_send`` queue job in one transaction; the worker then calls :meth:`BulkJobs.run`
with a lease. ``run`` is idempotent by construction: it looks at the record first.

Sending goes through the C++ fan-out (``Client.bulk_send``), fed from a generator that
commits ``BulkJob.submitted_through`` (the highest recipient id handed over) before each
chunk is handed over. So after a crash a recipient is either

- *settled* (it has a SID or a final status): left alone;
- *pending above the mark*: never handed over, sent now;
- *pending at or below the mark*: ambiguous (it may have been created at Twilio, its
  answer lost with the process). These are reconciled before anything is sent: the
  sender's messages created since the job started are listed from Twilio and matched by
  recipient and content, skipping SIDs already recorded on other rows. Found: its SID and
  status are recorded (status callbacks then attach by SID); not found: sent.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import twiliocore
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twiliocore.phone import to_e164_many
from twiliocore.segments import count_segments

from twiliocore_api import crud
from twiliocore_api.models import BulkJob, Message, utcnow
from twiliocore_api.services.status import apply_pending_events, apply_status, describe_error_code
from twiliocore_api.worker import JobQueue, Lease, RetryLater

__all__ = ["BULK_SEND", "BulkJobs", "BulkPlan", "plan_bulk"]

logger = logging.getLogger("twiliocore_api")

#: The queue job kind of a bulk send (its ``ref`` is the bulk job id).
BULK_SEND = "bulk_send"
# Twilio's error for a send to a recipient who replied STOP.
_OPTED_OUT_CODE = 21610
# Recipients handed to the fan-out per committed mark.
_FEED_CHUNK = 256
# Twilio's clock and ours may differ: look for messages created a little before the start.
_CLOCK_SLACK = timedelta(minutes=1)
# Consecutive listed messages older than the job after which the listing stops.
_OLDER_RUN = 1000


@dataclass
class BulkPlan:
    """A bulk request after normalisation: what will be sent, and what was rejected."""

    total: int
    recipients: list[str]
    duplicates: int
    invalid: list[dict[str, str]]


def _strip_channel(address: str | None) -> str:
    address = address or ""
    return address[len("whatsapp:") :] if address.startswith("whatsapp:") else address


def plan_bulk(numbers: Iterable[str], *, region: str) -> BulkPlan:
    """Normalise, validate and deduplicate bulk recipients (``region`` for national numbers)."""
    inputs = list(numbers)
    results = to_e164_many([_strip_channel(n) for n in inputs], region)
    seen: set[str] = set()
    recipients: list[str] = []
    invalid: list[dict[str, str]] = []
    duplicates = 0
    for raw, result in zip(inputs, results, strict=True):
        if result.e164 is None:
            invalid.append({"number": raw, "reason": result.reason or "invalid"})
        elif result.e164 in seen:
            duplicates += 1
        else:
            seen.add(result.e164)
            recipients.append(result.e164)
    return BulkPlan(len(inputs), recipients, duplicates, invalid)


def _billed_segments(kind: str, body: str, media_url: str | None) -> int:
    """The ``num_segments`` Twilio gives a message: SMS parts, or 1 for WhatsApp and MMS."""
    if kind == "whatsapp" or media_url:
        return 1
    return count_segments(body).num_segments


def _int_or_none(value: object) -> int | None:
    try:
        return None if value in (None, "") else int(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Work:
    """What a run of a bulk job sends, read from its record."""

    job_id: str
    kind: str
    body: str
    media_url: str | None
    sender: str | None
    started_at: datetime
    resumed: bool
    submitted_through: int | None


class BulkJobs:
    """The bulk jobs of one running service.

    Usage::

        bulk = BulkJobs(messenger, session_factory, queue, region="US", wake=worker.wake)
        worker.register(BULK_SEND, bulk.run, abandon=bulk.abandon)
        job, refused = bulk.start(session, user_id=1, kind="sms", plan=bulk.plan(numbers),
                                  body="Hello")

    Thread-safe: routes call :meth:`start` from the thread pool, the worker :meth:`run`
    on its threads.

    Args:
        messenger: the service's messaging layer (configuration, client, status callback URL).
        session_factory: makes database sessions.
        queue: the job queue bulk jobs are enqueued on.
        region: default region for numbers written without ``+``.
        wake: called after a job was enqueued (tells the worker to look now).
    """

    def __init__(
        self,
        messenger: Any,
        session_factory: sessionmaker[Session],
        queue: JobQueue,
        *,
        region: str,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.messenger = messenger
        self.session_factory = session_factory
        self.queue = queue
        self.region = region
        self.wake = wake

    def plan(self, numbers: Iterable[str]) -> BulkPlan:
        """Normalise, validate and deduplicate bulk recipients."""
        return plan_bulk(numbers, region=self.region)

    # ------------------------------------------------------------------ start

    def start(
        self,
        session: Session,
        *,
        user_id: int | None,
        kind: str,
        plan: BulkPlan,
        body: str,
        media_url: str | None = None,
    ) -> tuple[BulkJob, int]:
        """Record a bulk job, one pending message per recipient, and its queue job; commit.

        Returns the job and how many recipients were refused (opted out).
        """
        config = self.messenger.config
        sender = config.whatsapp_number if kind == "whatsapp" else config.phone_number
        job = BulkJob(
            id=str(uuid.uuid4()),
            user_id=user_id,
            type=kind,
            body=body,
            media_url=media_url,
            status="queued",
            total=plan.total,
            accepted=len(plan.recipients),
            duplicates=plan.duplicates,
            invalid=plan.invalid,
        )
        session.add(job)
        session.flush()
        opted_out = crud.opted_out_among(session, phone_numbers=plan.recipients)
        for number in plan.recipients:
            refused = number in opted_out
            session.add(
                Message(
                    user_id=user_id,
                    bulk_job_id=job.id,
                    type=kind,
                    direction="outbound-api",
                    to_number=number,
                    from_number=sender,
                    body=body,
                    media_url=media_url,
                    status="refused" if refused else "pending",
                    error_code=_OPTED_OUT_CODE if refused else None,
                    error=f"not sent: {number} has opted out (replied STOP)" if refused else None,
                )
            )
        refused_count = sum(1 for number in plan.recipients if number in opted_out)
        if refused_count == len(plan.recipients):
            job.status = "completed"
            job.finished_at = utcnow()
        else:
            self.queue.enqueue(session, BULK_SEND, ref=job.id)
        session.commit()
        if job.status == "queued" and self.wake is not None:
            self.wake()
        return job, refused_count

    def adopt_unqueued(self) -> int:
        """Queue unfinished bulk jobs that have no queue job (recorded before the queue existed).

        Safe when several processes start together: one queue job per bulk job.
        """
        with self.session_factory() as session:
            job_ids = crud.bulk_jobs_without_queue_entry(session, kind=BULK_SEND)
        adopted = 0
        for job_id in job_ids:
            with self.session_factory() as session:
                try:
                    self.queue.enqueue(session, BULK_SEND, ref=job_id)
                    session.commit()
                except IntegrityError:  # another process queued it first
                    session.rollback()
                    continue
            adopted += 1
            logger.warning("bulk job %s had no queue job: queued to resume it", job_id)
        return adopted

    @staticmethod
    def job_counts(session: Session, job_id: str) -> dict[str, int]:
        """Recipients of a job per status."""
        return crud.count_recipients(session, job_id=job_id)

    # ------------------------------------------------------------------ run (the worker)

    def run(self, lease: Lease, stop: threading.Event) -> bool:
        """Run (or resume) the bulk job ``lease.ref``; the worker's ``bulk_send`` handler.

        Returns ``True`` when the job is settled, ``False`` when ``stop`` interrupted it
        (its unsent recipients stay ``pending`` for the next run).

        Raises:
            RetryLater: ambiguous recipients could not be reconciled (Twilio unreachable).
        """
        work = self._begin(str(lease.ref))
        if work is None:
            return True
        if work.resumed:
            self._reconcile(work)
        with self.session_factory() as session:
            pending = [
                (m.id, m.to_number) for m in crud.pending_recipients(session, job_id=work.job_id)
            ]
        status, error = "completed", None
        if pending:
            outcomes: queue.SimpleQueue[Mapping[str, Any] | None] = queue.SimpleQueue()
            recorder = threading.Thread(
                target=self._record_results,
                args=(
                    work.job_id,
                    outcomes,
                    _billed_segments(work.kind, work.body, work.media_url),
                ),
                name=f"bulk-recorder-{work.job_id[:8]}",
                daemon=True,
            )
            recorder.start()
            try:
                summary = self._bulk_send(
                    work, self._feed(lease, pending, stop), outcomes.put, stop
                )
                # Anything the callback did not report is settled from the summary.
                for item in summary.get("results", None) or []:
                    outcomes.put(item)
            except Exception as exc:
                logger.exception("bulk job %s failed", work.job_id)
                status, error = "failed", f"the bulk send failed: {type(exc).__name__}"
            finally:
                outcomes.put(None)
                recorder.join()
        if stop.is_set() and status == "completed":
            with self.session_factory() as session:
                left = crud.pending_recipients(session, job_id=work.job_id)
            if left:
                logger.info("bulk job %s stopped with %d recipients left", work.job_id, len(left))
                return False
        self._finish(work.job_id, status=status, error=error)
        return True

    def abandon(self, ref: str | None, error: str) -> None:
        """The queue gave the job up: it fails, its unreported recipients are ``unknown``."""
        if ref is not None:
            self._finish(ref, status="failed", error=f"the bulk job was given up: {error}")

    def _begin(self, job_id: str) -> _Work | None:
        with self.session_factory() as session:
            job = crud.get_bulk_job(session, job_id=job_id)
            if job is None or job.status not in ("queued", "running"):
                return None
            resumed = job.started_at is not None
            crud.set_bulk_job_status(session, job_id=job_id, status="running", started=True)
            session.commit()
            session.refresh(job)
            sender = crud.bulk_job_sender(session, job_id=job_id)
            if sender is None:
                config = self.messenger.config
                sender = config.whatsapp_number if job.type == "whatsapp" else config.phone_number
            assert job.started_at is not None
            if resumed:
                logger.warning("bulk job %s resumed", job_id)
            return _Work(
                job_id=job.id,
                kind=job.type,
                body=job.body,
                media_url=job.media_url,
                sender=sender,
                started_at=job.started_at,
                resumed=resumed,
                submitted_through=job.submitted_through,
            )

    def _feed(
        self, lease: Lease, recipients: list[tuple[int, str]], stop: threading.Event
    ) -> Iterator[str]:
        """Recipients for the fan-out, each chunk marked as handed over before it is.

        Each chunk also extends the lease, and none is handed over once it is lost:
        another worker may have resumed the job.
        """
        job_id = str(lease.ref)
        for start in range(0, len(recipients), _FEED_CHUNK):
            if stop.is_set():
                return
            if not self.queue.heartbeat(lease):
                logger.error("bulk job %s: the lease was lost; no more recipients", job_id)
                stop.set()
                return
            chunk = recipients[start : start + _FEED_CHUNK]
            with self.session_factory() as session:
                crud.set_submitted_through(session, job_id=job_id, message_id=chunk[-1][0])
                session.commit()
            for _id, number in chunk:
                yield number

    def _bulk_send(
        self,
        work: _Work,
        recipients: Iterable[str],
        on_result: Callable[[Mapping[str, Any]], object],
        stop: threading.Event,
    ) -> Mapping[str, Any]:
        """The engine's fan-out over ``recipients``; cancelled when ``stop`` is set."""
        job = self.messenger.client().bulk_send(
            recipients,
            work.body,
            from_=work.sender,
            media_url=work.media_url,
            whatsapp=work.kind == "whatsapp",
            status_callback=self.messenger.status_callback_url,
            region=self.region,
            on_result=on_result,
            # on_result reports every recipient: no need to keep them all in memory.
            keep_results=False,
        )
        cancelled = False
        while True:
            try:
                return job.wait(0.25)  # type: ignore[no-any-return]
            except TimeoutError:
                if stop.is_set() and not cancelled:
                    job.cancel()
                    cancelled = True

    # ------------------------------------------------------------------ reconciliation

    def _reconcile(self, work: _Work) -> None:
        """Settle ambiguous recipients from Twilio's message log before anything is resent."""
        with self.session_factory() as session:
            pending = crud.pending_recipients(session, job_id=work.job_id)
        # Without a mark (a job recorded before marks existed) every pending one is ambiguous.
        through = work.submitted_through
        ambiguous = {m.to_number: m.id for m in pending if through is None or m.id <= through}
        if not ambiguous:
            return
        found = self._find_created(work, ambiguous)
        matched = 0
        with self.session_factory() as session:
            taken = crud.recorded_sids(
                session, sids=[m.sid for items in found.values() for m in items if m.sid]
            )
            settled: list[Message] = []
            for to, items in found.items():
                free = [m for m in items if m.sid and m.sid not in taken]
                message = session.get(Message, ambiguous[to])
                if not free or message is None or message.status != "pending":
                    continue
                created = free[-1]  # the listing is newest first: the earliest match
                assert created.sid is not None
                taken.add(created.sid)
                message.message_sid = created.sid
                message.sent_at = message.sent_at or created.date_created or utcnow()
                message.num_segments = _int_or_none(created.num_segments)
                apply_status(message, status="queued")
                if created.status:
                    apply_status(message, status=created.status, error_code=created.error_code)
                settled.append(message)
            session.commit()
            for message in settled:
                apply_pending_events(session, message=message)
            session.commit()
            matched = len(settled)
        logger.warning(
            "bulk job %s: of %d recipients whose outcome was lost, %d were found at Twilio "
            "(recorded) and %d were not (sent now)",
            work.job_id,
            len(ambiguous),
            matched,
            len(ambiguous) - matched,
        )

    def _find_created(self, work: _Work, wanted: Mapping[str, int]) -> dict[str, list[Any]]:
        """The sender's messages since the job started to ``wanted`` with the job's content."""
        if work.sender is None:
            raise RetryLater("no sender is configured for this job's channel")
        sender = f"whatsapp:{work.sender}" if work.kind == "whatsapp" else work.sender
        since = work.started_at - _CLOCK_SLACK
        found: dict[str, list[Any]] = {}
        older = 0
        try:
            for item in self.messenger.client().messages.stream(from_=sender, page_size=1000):
                if item.date_created is not None and item.date_created < since:
                    older += 1
                    if older >= _OLDER_RUN:
                        break
                    continue
                older = 0
                to = _strip_channel(item.to)
                if to in wanted and _same_content(item, work.body, work.media_url):
                    found.setdefault(to, []).append(item)
        except twiliocore.TwilioCoreError as exc:
            raise RetryLater(
                f"Twilio's message log could not be read to reconcile the job: {exc}"
            ) from exc
        return found

    # ------------------------------------------------------------------ recording

    def _record_results(
        self,
        job_id: str,
        outcomes: queue.SimpleQueue[Mapping[str, Any] | None],
        num_segments: int,
    ) -> None:
        # The engine reports each recipient through on_result (on its own thread); that
        # callback only queues the outcome, and this thread writes the queue to the
        # database in small transactions, so the engine is never held up by the disk.
        done = False
        while not done:
            batch = [outcomes.get()]
            while len(batch) < 500:
                try:
                    batch.append(outcomes.get_nowait())
                except queue.Empty:
                    break
            if None in batch:
                done = True
            items = [item for item in batch if item is not None]
            if not items:
                continue
            try:
                self._record_batch(job_id, items, num_segments)
            except IntegrityError:
                # A SID already recorded: after an ambiguous answer the fan-out's lookup
                # matched a message another send had recorded. One by one, so that only
                # that recipient is affected.
                for item in items:
                    self._record_alone(job_id, item, num_segments)
            except Exception:
                logger.exception("recording bulk results failed (job %s)", job_id)

    def _record_batch(self, job_id: str, items: list[Mapping[str, Any]], num_segments: int) -> None:
        with self.session_factory() as session:
            touched = [_record_result(session, job_id, item, num_segments) for item in items]
            session.commit()
            # Status callbacks that arrived before the SIDs were committed.
            caught_up = False
            for message in touched:
                if message is not None and message.message_sid is not None:
                    apply_pending_events(session, message=message)
                    caught_up = True
            if caught_up:
                session.commit()

    def _record_alone(self, job_id: str, item: Mapping[str, Any], num_segments: int) -> None:
        try:
            try:
                self._record_batch(job_id, [item], num_segments)
            except IntegrityError:
                sid = item.get("message_sid")
                logger.warning("bulk job %s: message %s is recorded for another send", job_id, sid)
                unknown = dict(item, status="unknown", success=False, message_sid=None)
                unknown["error_code"] = None
                unknown["error"] = (
                    f"Twilio's answer was ambiguous and its message log showed {sid}, which "
                    "another send had already recorded: whether this recipient got a message "
                    "of its own is unknown; check the message log at Twilio"
                )
                self._record_batch(job_id, [unknown], num_segments)
        except Exception:
            logger.exception("recording a bulk result failed (job %s)", job_id)

    def _finish(self, job_id: str, *, status: str, error: str | None) -> None:
        with self.session_factory() as session:
            crud.finish_bulk_job(session, job_id=job_id, status=status, error=error)


def _same_content(item: Any, body: str, media_url: str | None) -> bool:
    """Whether a listed message carries the job's content (a Messaging Service may append)."""
    text = item.body or ""
    if not (text == body or text.startswith(body)):
        return False
    return (
        (_int_or_none(item.num_media) or 0) > 0 if media_url else not _int_or_none(item.num_media)
    )


def _record_result(
    session: Session, job_id: str, result: Mapping[str, Any], num_segments: int
) -> Message | None:
    """Apply one fan-out result to its pending recipient; ``None`` when nothing changed."""
    to = _strip_channel(str(result.get("to") or ""))
    if not to:
        return None
    message = crud.get_recipient(session, job_id=job_id, to_number=to)
    if message is None or message.status != "pending":
        return None
    status = str(result.get("status") or "")
    if status in ("duplicate", "cancelled"):
        # A cancelled recipient (the service is stopping) stays pending: the job resumes.
        return None
    sid = result.get("message_sid")
    if status == "sent" or (result.get("success") and sid):
        # Accepted by Twilio: its first status is `queued`; callbacks take it on. The
        # fan-out does not read num_segments from each answer: it is the job's own count.
        message.message_sid = str(sid)
        message.sent_at = message.sent_at or utcnow()
        message.num_segments = num_segments
        apply_status(message, status="queued")
        return message
    code = _int_or_none(result.get("error_code"))
    message.status = "unknown" if status == "unknown" else "failed"
    message.error_code = code
    message.error = str(result.get("error") or describe_error_code(code))
    if code == _OPTED_OUT_CODE:
        # Twilio knows of an opt-out this service never saw (a STOP sent elsewhere).
        message.status = "refused"
        message.error = (
            f"not sent: Twilio reports that {message.to_number} has opted out "
            f"(error {_OPTED_OUT_CODE}); they can opt back in by replying START"
        )
    return message
