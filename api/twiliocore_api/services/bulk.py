"""Bulk jobs: recorded first, run by the job queue's worker, resumed without sending twice.

:meth:`BulkJobs.start` writes the job, one ``pending`` message per recipient (Core
executemany ``INSERT`` in chunks, no ORM object per row), every rejected number and a
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
  recipient and content, skipping SIDs already recorded on other rows
  (:mod:`twiliocore_api.services.reconcile`, shared with single sends). Found: its SID and
  status are recorded (status callbacks then attach by SID); not found: sent.

Results are written by a recorder thread, a transaction per batch, by primary key. An
account-level refusal (20003, 20005) stops the job at once: ``failed`` with Twilio's
reason, the recipients not sent ``failed`` with it.

The module is longer than the service's other modules (~700 lines) on purpose: intake,
the worker's run, resume and recording are the stages of one job and share its state
(:class:`_Work`, the row map, the lease); the reconciliation they share with single sends
already lives in :mod:`~twiliocore_api.services.reconcile`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import twiliocore
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twiliocore.phone import to_e164_many
from twiliocore.segments import count_segments

from twiliocore_api import crud
from twiliocore_api.models import BulkJob, utcnow
from twiliocore_api.services.reconcile import find_created, record_found
from twiliocore_api.services.status import apply_pending_events, describe_error_code
from twiliocore_api.worker import JobQueue, Lease, RetryLater

__all__ = [
    "BULK_SEND",
    "INVALID_LISTED",
    "BulkJobs",
    "BulkPlan",
    "Delivery",
    "delivery",
    "plan_bulk",
]

logger = logging.getLogger("twiliocore_api")

#: The queue job kind of a bulk send (its ``ref`` is the bulk job id).
BULK_SEND = "bulk_send"
# Twilio's error for a send to a recipient who replied STOP.
_OPTED_OUT_CODE = 21610
# Recipients handed to the fan-out per committed mark (and lease check): at most this
# many are ambiguous after a crash.
_FEED_CHUNK = 1000
# Most fan-out results written in one transaction, and how long results are gathered
# for one.
_RECORD_BATCH = 5000
_RECORD_GATHER_SECONDS = 0.05
# Numbers normalised per call into the C++ core at intake.
_PLAN_BATCH = 10_000
#: Rejected numbers listed in a bulk job's answers; all of them are paged from the
#: ``/invalid`` route.
INVALID_LISTED = 100


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
    """Normalise, validate and deduplicate bulk recipients (``region`` for national numbers).

    Numbers go through the C++ core (:func:`twiliocore.phone.to_e164_many`) in batches, so
    the per-number results of a million-number request are never all held at once.
    """
    inputs = numbers if isinstance(numbers, list) else list(numbers)
    seen: set[str] = set()
    recipients: list[str] = []
    invalid: list[dict[str, str]] = []
    duplicates = 0
    for start in range(0, len(inputs), _PLAN_BATCH):
        batch = inputs[start : start + _PLAN_BATCH]
        results = to_e164_many([_strip_channel(n) for n in batch], region)
        for raw, result in zip(batch, results, strict=True):
            e164 = result.e164
            if e164 is None:
                invalid.append({"number": raw, "reason": result.reason or "invalid"})
            elif e164 in seen:
                duplicates += 1
            else:
                seen.add(e164)
                recipients.append(e164)
    return BulkPlan(len(inputs), recipients, duplicates, invalid)


def _billed_segments(kind: str, body: str, media_url: str | None) -> int:
    """The ``num_segments`` Twilio gives a message: SMS parts, or 1 for WhatsApp and MMS."""
    if kind == "whatsapp" or media_url:
        return 1
    return count_segments(body).num_segments


# Where each message of a job is on its way, by its stored status.
_AT_TWILIO = frozenset({"accepted", "scheduled", "queued", "sending"})
_DELIVERED = frozenset({"delivered", "read"})
_NOT_DELIVERED = frozenset({"failed", "undelivered", "canceled"})


@dataclass(frozen=True)
class Delivery:
    """Where a bulk job's messages are after Twilio took them, and when the rest will go.

    ``accepted_by_twilio`` counts every message Twilio created (it has a SID);
    ``queued_at_twilio`` those still waiting in the sender's queue there, which Twilio
    releases at ``sender_rate`` segments per second: ``eta_seconds`` is how long the queue
    takes to drain at that rate (``None`` once nothing waits). The estimate counts this
    job's messages only; other traffic from the same sender makes it longer.
    """

    accepted_by_twilio: int
    queued_at_twilio: int
    sent: int
    delivered: int
    failed: int
    sender_rate: float
    eta_seconds: float | None


def delivery(
    job: BulkJob, created: Mapping[str, int], *, sender: str | None, mps: float | None
) -> Delivery:
    """The :class:`Delivery` of ``job``.

    Args:
        job: the bulk job (its type, body and media give the segments per message).
        created: the recipients Twilio created a message for, per stored status
            (``crud.count_created``).
        sender: the job's sender as recorded; ``None`` when it has none (a Messaging
            Service), and then Twilio's default rate for an unknown sender is assumed.
        mps: the rate every sender is paced at, when one is configured (the emulator's
            ``MOCK_EMULATOR_MPS`` in mock mode); ``None``: Twilio's rate for the sender.
    """
    from twiliocore.emulator.throughput import sender_rate  # Twilio's rates, as modelled

    def among(statuses: frozenset[str]) -> int:
        return sum(n for status, n in created.items() if status in statuses)

    address = sender or ""
    if job.type == "whatsapp" and not address.startswith("whatsapp:"):
        address = "whatsapp:" + address
    rate = sender_rate(address, mps)
    queued = among(_AT_TWILIO)
    segments = _billed_segments(job.type, job.body, job.media_url)
    return Delivery(
        accepted_by_twilio=sum(created.values()),
        queued_at_twilio=queued,
        sent=created.get("sent", 0),
        delivered=among(_DELIVERED),
        failed=among(_NOT_DELIVERED),
        sender_rate=rate,
        eta_seconds=queued * segments / rate if queued and rate > 0 else None,
    )


def _int_or_none(value: object) -> int | None:
    try:
        return None if value in (None, "") else int(str(value))
    except ValueError:
        return None


class _Outcome(NamedTuple):
    """One recipient's result from the fan-out, as small as the recorder needs it.

    Results wait in a queue while the recorder writes earlier ones: a tuple of five
    fields costs a fraction of the result dict.
    """

    to: str
    status: str
    sid: str | None
    code: int | None
    error: str | None

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> _Outcome:
        """The outcome of a fan-out result dict (``status`` ``sent`` when it has a SID)."""
        status = str(item.get("status") or "")
        sid = item.get("message_sid")
        if status == "sent" or (item.get("success") and sid):
            return cls(_strip_channel(str(item.get("to") or "")), "sent", str(sid), None, None)
        error = item.get("error")
        return cls(
            _strip_channel(str(item.get("to") or "")),
            status,
            None,
            _int_or_none(item.get("error_code")),
            None if error is None else str(error),
        )


class _Either:
    """Set when either of two events is (the worker's stop, or a refused account)."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


class _Refusal:
    """Watches a job's results for an account-level refusal (no recipient can succeed).

    Twilio's 20003 (authentication failed: the token changed, or the account is suspended
    or closed) and 20005 (the account is not active) concern the account, not the
    recipient: every other recipient would get the same answer. 429 / 20429 is not one:
    the fan-out waits and retries it.
    """

    CODES = frozenset({20003, 20005})

    def __init__(self) -> None:
        self.seen = threading.Event()
        self.code: int | None = None
        self.reason = ""

    def check(self, item: _Outcome) -> None:
        code = item.code
        if code in self.CODES and not self.seen.is_set():
            self.code = code
            message = str(item.error or describe_error_code(code))
            self.reason = f"Twilio refused the account (error {code}: {message})"
            self.seen.set()


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
            invalid=plan.invalid[:INVALID_LISTED],
        )
        session.add(job)
        session.flush()
        crud.add_bulk_invalid(session, job_id=job.id, invalid=plan.invalid)
        opted_out = crud.opted_out_among(session, phone_numbers=plan.recipients)
        now = utcnow()
        common = {
            "user_id": user_id,
            "bulk_job_id": job.id,
            "type": kind,
            "direction": "outbound-api",
            "from_number": sender,
            "body": body,
            "media_url": media_url,
            "created_at": now,
            "updated_at": now,
        }
        refused_row = {"status": "refused", "error_code": _OPTED_OUT_CODE}
        pending_row = {"status": "pending", "error_code": None, "error": None}
        crud.add_recipients(
            session,
            (
                {
                    **common,
                    "to_number": number,
                    **(
                        {
                            **refused_row,
                            "error": f"not sent: {number} has opted out (replied STOP)",
                        }
                        if number in opted_out
                        else pending_row
                    ),
                }
                for number in plan.recipients
            ),
        )
        refused_count = len(opted_out)
        if refused_count == len(plan.recipients):
            job.status = "completed"
            job.finished_at = utcnow()
        else:
            # In the transaction that wrote the rows: the job is never seen without them.
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
        # The claim has just extended the lease: it is confirmed from (a little before) now.
        claimed = time.monotonic()
        work = self._begin(str(lease.ref))
        if work is None:
            return True
        if work.resumed:
            self._reconcile(work)
        with self.session_factory() as session:
            # {number: row id} in row order: what is fed, and where each result is written.
            pending = {
                to: message_id
                for message_id, to in crud.pending_recipient_ids(session, job_id=work.job_id)
            }
        status, error = "completed", None
        refusal = _Refusal()
        if pending:
            outcomes: queue.SimpleQueue[_Outcome | None] = queue.SimpleQueue()
            recorder = threading.Thread(
                target=self._record_results,
                args=(
                    work.job_id,
                    outcomes,
                    _billed_segments(work.kind, work.body, work.media_url),
                    pending,
                ),
                name=f"bulk-recorder-{work.job_id[:8]}",
                daemon=True,
            )
            recorder.start()

            def on_result(item: Mapping[str, Any]) -> None:
                outcome = _Outcome.of(item)
                refusal.check(outcome)
                outcomes.put(outcome)

            try:
                summary = self._bulk_send(
                    work,
                    self._feed(lease, pending, stop, confirmed=claimed),
                    on_result,
                    _Either(stop, refusal.seen),
                )
                # Anything the callback did not report is settled from the summary.
                for item in summary.get("results", None) or []:
                    outcomes.put(_Outcome.of(item))
            except Exception as exc:
                logger.exception("bulk job %s failed", work.job_id)
                status, error = "failed", f"the bulk send failed: {type(exc).__name__}"
            finally:
                outcomes.put(None)
                recorder.join()
        if refusal.seen.is_set():
            # The account is refused: no recipient can be sent. The job ends here; those
            # not sent are failed with Twilio's reason (never handed over, or refused too).
            logger.error("bulk job %s stopped: %s", work.job_id, refusal.reason)
            self._finish(
                work.job_id,
                status="failed",
                error=f"stopped: {refusal.reason}; the remaining recipients were not sent",
                unsent=("failed", refusal.code, f"not sent: {refusal.reason}"),
            )
            return True
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
        self,
        lease: Lease,
        recipients: Mapping[str, int],
        stop: threading.Event,
        *,
        confirmed: float | None = None,
    ) -> Iterator[str]:
        """Recipients for the fan-out, each chunk marked as handed over before it is.

        None is handed over unless the lease was confirmed (extended) within the last sixth
        of the lease (``confirmed``: when it last was, as ``time.monotonic()``): it cannot
        have expired since, so no other worker can have resumed the job. (The worker's
        heartbeat thread extends it too, and sets ``stop`` if it is lost.)
        """
        job_id = str(lease.ref)
        items = iter(recipients.items())
        while chunk := list(itertools.islice(items, _FEED_CHUNK)):
            if stop.is_set():
                return
            now = time.monotonic()
            if confirmed is None or now - confirmed > self.queue.lease_seconds / 6:
                if not self.queue.heartbeat(lease):
                    logger.error("bulk job %s: the lease was lost; no more recipients", job_id)
                    stop.set()
                    return
                confirmed = now
            with self.session_factory() as session:
                crud.set_submitted_through(session, job_id=job_id, message_id=chunk[-1][1])
                session.commit()
            for number, _id in chunk:
                yield number

    def _bulk_send(
        self,
        work: _Work,
        recipients: Iterable[str],
        on_result: Callable[[Mapping[str, Any]], object],
        stop: threading.Event | _Either,
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
        if work.sender is None:
            raise RetryLater("no sender is configured for this job's channel")
        try:
            found = find_created(
                self.messenger.client(),
                sender=work.sender,
                kind=work.kind,
                body=work.body,
                media_url=work.media_url,
                since=work.started_at,
                wanted=ambiguous,
            )
        except twiliocore.TwilioCoreError as exc:
            raise RetryLater(
                f"Twilio's message log could not be read to reconcile the job: {exc}"
            ) from exc
        with self.session_factory() as session:
            matched = len(record_found(session, ambiguous, found, waiting="pending"))
        logger.warning(
            "bulk job %s: of %d recipients whose outcome was lost, %d were found at Twilio "
            "(recorded) and %d were not (sent now)",
            work.job_id,
            len(ambiguous),
            matched,
            len(ambiguous) - matched,
        )

    # ------------------------------------------------------------------ recording

    def _record_results(
        self,
        job_id: str,
        outcomes: queue.SimpleQueue[_Outcome | None],
        num_segments: int,
        ids: Mapping[str, int],
    ) -> None:
        # The engine reports each recipient through on_result (on its own thread); that
        # callback only queues the outcome, and this thread writes the queue to the
        # database, a transaction per batch of what has arrived (up to _RECORD_BATCH), so
        # the engine is never held up by the disk. ``ids`` maps each recipient (number) to
        # its row: results are written by primary key without reading rows first.
        done = False
        while not done:
            batch = [outcomes.get()]
            # Gather what arrives for a moment: each transaction costs a commit (an fsync),
            # so a few large ones record faster than many small ones.
            until = time.monotonic() + _RECORD_GATHER_SECONDS
            while len(batch) < _RECORD_BATCH and batch[-1] is not None:
                try:
                    batch.append(outcomes.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            if None in batch:
                done = True
            items = [item for item in batch if item is not None]
            if not items:
                continue
            try:
                self._record_batch(job_id, items, num_segments, ids)
            except IntegrityError:
                # A SID already recorded: after an ambiguous answer the fan-out's lookup
                # matched a message another send had recorded. One by one, so that only
                # that recipient is affected.
                for item in items:
                    self._record_alone(job_id, item, num_segments, ids)
            except Exception:
                logger.exception("recording bulk results failed (job %s)", job_id)

    def _record_batch(
        self,
        job_id: str,
        items: list[_Outcome],
        num_segments: int,
        ids: Mapping[str, int],
    ) -> None:
        """Record fan-out results: one transaction, one executemany UPDATE per kind of outcome."""
        by_number: dict[str, _Outcome] = {}
        for item in items:
            # A cancelled recipient (the service is stopping) stays pending: the job resumes.
            if item.to and item.status not in ("duplicate", "cancelled"):
                by_number[item.to] = item
        if not by_number:
            return
        now = utcnow()
        with self.session_factory() as session:
            accepted: list[dict[str, Any]] = []
            failures: list[dict[str, Any]] = []
            for to, item in by_number.items():
                message_id = ids.get(to)
                if message_id is None:
                    continue
                # Rows no longer pending are left alone by the UPDATEs' own condition.
                accepted_row, failure_row = _result_row(message_id, to, item)
                if accepted_row is not None:
                    accepted.append(accepted_row)
                if failure_row is not None:
                    failures.append(failure_row)
            crud.record_recipient_sids(session, accepted, num_segments=num_segments, at=now)
            crud.record_recipient_failures(session, failures, at=now)
            session.commit()
            # Status callbacks that arrived before the SIDs were committed.
            early = crud.sids_with_status_events(session, sids=[row["sid"] for row in accepted])
            if early:
                for sid in early:
                    message = crud.get_message_by_sid(session, message_sid=sid)
                    if message is not None:
                        apply_pending_events(session, message=message)
                session.commit()

    def _record_alone(
        self, job_id: str, item: _Outcome, num_segments: int, ids: Mapping[str, int]
    ) -> None:
        try:
            try:
                self._record_batch(job_id, [item], num_segments, ids)
            except IntegrityError:
                sid = item.sid
                logger.warning("bulk job %s: message %s is recorded for another send", job_id, sid)
                unknown = _Outcome(
                    item.to,
                    "unknown",
                    None,
                    None,
                    f"Twilio's answer was ambiguous and its message log showed {sid}, which "
                    "another send had already recorded: whether this recipient got a message "
                    "of its own is unknown; check the message log at Twilio",
                )
                self._record_batch(job_id, [unknown], num_segments, ids)
        except Exception:
            logger.exception("recording a bulk result failed (job %s)", job_id)

    def _finish(
        self,
        job_id: str,
        *,
        status: str,
        error: str | None,
        unsent: tuple[str, int | None, str] | None = None,
    ) -> None:
        with self.session_factory() as session:
            crud.finish_bulk_job(session, job_id=job_id, status=status, error=error, unsent=unsent)


def _result_row(
    message_id: int, to: str, result: _Outcome
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """One fan-out result as an accepted row (``_id``, ``sid``) or a failure row."""
    if result.status == "sent":
        # Accepted by Twilio: its first status is `queued`; callbacks take it on. The
        # fan-out does not read num_segments from each answer: it is the job's own count.
        return {"_id": message_id, "sid": result.sid}, None
    code = result.code
    row = {
        "_id": message_id,
        "new_status": "unknown" if result.status == "unknown" else "failed",
        "code": code,
        "error": str(result.error or describe_error_code(code)),
    }
    if code == _OPTED_OUT_CODE:
        # Twilio knows of an opt-out this service never saw (a STOP sent elsewhere).
        row["new_status"] = "refused"
        row["error"] = (
            f"not sent: Twilio reports that {to} has opted out "
            f"(error {_OPTED_OUT_CODE}); they can opt back in by replying START"
        )
    return None, row
