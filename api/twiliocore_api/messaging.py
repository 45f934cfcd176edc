"""Bulk jobs on the service's runtime; the rest of the service layer is in ``services/``.

:class:`Messenger` is the running service's
:class:`~twiliocore_api.services.config.MessagingRuntime` (configuration, mock mode,
client, inbound pipeline) plus bulk jobs run on threads: every recipient is written to the
database before the job starts and updated from the fan-out's per-recipient results.

Workflow code calls :func:`~twiliocore_api.services.notify.notify_user` (also importable
from here, as before).
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twiliocore.phone import to_e164_many
from twiliocore.segments import count_segments

from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.security import KeyRing
from twiliocore_api.models import BulkJob, Message, utcnow
from twiliocore_api.services import sends
from twiliocore_api.services.config import EffectiveConfig, MessagingRuntime, MessengerUnavailable
from twiliocore_api.services.config import strip_channel as _strip_channel
from twiliocore_api.services.notify import notify_user
from twiliocore_api.services.sends import OPTED_OUT_CODE as _OPTED_OUT_CODE
from twiliocore_api.services.status import catch_up

__all__ = ["BulkPlan", "EffectiveConfig", "Messenger", "MessengerUnavailable", "notify_user"]

logger = logging.getLogger("twiliocore_api")


@dataclass
class BulkPlan:
    """A bulk request after normalisation: what will be sent, and what was rejected."""

    total: int
    recipients: list[str]
    duplicates: int
    invalid: list[dict[str, str]]


def _billed_segments(kind: str, body: str, media_url: str | None) -> int:
    """The ``num_segments`` Twilio gives a message: SMS parts, or 1 for WhatsApp and MMS."""
    if kind == "whatsapp" or media_url:
        return 1
    return count_segments(body).num_segments


class Messenger(MessagingRuntime):
    """:class:`~twiliocore_api.services.config.MessagingRuntime` with bulk jobs on threads.

    Thread-safe (routes, webhooks and bulk worker threads share it); built with the
    runtime's arguments.
    """

    def __init__(
        self, settings: Settings, session_factory: sessionmaker[Session], keyring: KeyRing
    ) -> None:
        super().__init__(settings, session_factory, keyring)
        self._workers: set[threading.Thread] = set()
        self._jobs: dict[str, Any] = {}
        self._stopping = threading.Event()

    def start(self) -> None:
        """Load the configuration, settle jobs a previous process left, register globally."""
        super().start()
        self._mark_interrupted_jobs()

    def stop(self, *, timeout: float = 5.0) -> None:
        """Wait briefly for bulk workers, then close the clients and stop the emulator."""
        self._unregister()
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        for worker in list(self._workers):
            worker.join(timeout)
        super().stop(timeout=timeout)

    def _record_result(
        self,
        session: Session,
        message: Message,
        result: Mapping[str, Any],
        *,
        commit: bool = True,
    ) -> None:
        """Record a fan-out result dict on its message, through the sends service."""
        if result.get("success") and result.get("message_sid"):
            sends.record_accepted(
                message,
                message_sid=str(result["message_sid"]),
                status=str(result.get("status") or "queued"),
                num_segments=_int_or_none(result.get("num_segments")),
                from_address=result.get("from"),
            )
        else:
            sends.record_failure(
                message,
                status=str(result.get("status") or "failed"),
                error_code=_int_or_none(result.get("error_code")),
                error=result.get("error"),
            )
        if commit:
            session.commit()
            self._catch_up(session, [message])

    @staticmethod
    def _catch_up(session: Session, messages: Iterable[Message]) -> None:
        catch_up(session, messages)

    def plan_bulk(self, numbers: Iterable[str]) -> BulkPlan:
        """Normalise, validate and deduplicate bulk recipients."""
        inputs = list(numbers)
        results = to_e164_many(
            [_strip_channel(n) or "" for n in inputs], self.settings.DEFAULT_REGION
        )
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

    # ------------------------------------------------------------------ bulk

    def start_bulk(
        self,
        session: Session,
        *,
        user_id: int | None,
        kind: str,
        plan: BulkPlan,
        body: str,
        media_url: str | None = None,
    ) -> tuple[BulkJob, int]:
        """Persist a bulk job with one pending message per recipient and start its worker.

        Returns the job and how many recipients were refused (opted out).
        """
        config, _service = self._current()
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
        refused = 0
        to_send: list[str] = []
        opted_out_numbers = crud.opted_out_among(session, phone_numbers=plan.recipients)
        for number in plan.recipients:
            opted_out = number in opted_out_numbers
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
                    status="refused" if opted_out else "pending",
                    error_code=_OPTED_OUT_CODE if opted_out else None,
                    error=f"not sent: {number} has opted out (replied STOP)" if opted_out else None,
                )
            )
            if opted_out:
                refused += 1
            else:
                to_send.append(number)
        if not to_send:
            job.status = "completed"
            job.finished_at = utcnow()
        session.commit()
        if to_send:
            worker = threading.Thread(
                target=self._run_bulk,
                args=(job.id, kind, to_send, body, media_url),
                name=f"bulk-{job.id[:8]}",
                daemon=True,
            )
            with self._lock:
                self._workers.add(worker)
            worker.start()
        return job, refused

    def _run_bulk(
        self, job_id: str, kind: str, numbers: list[str], body: str, media_url: str | None
    ) -> None:
        # The engine reports each recipient through on_result (possibly on its own thread);
        # that callback only queues the outcome, and a recorder thread writes the queue to
        # the database in small transactions, so the engine is never held up by the disk.
        outcomes: queue.SimpleQueue[Mapping[str, Any] | None] = queue.SimpleQueue()
        recorder = threading.Thread(
            target=self._record_bulk_results,
            args=(job_id, outcomes, _billed_segments(kind, body, media_url)),
            name=f"bulk-recorder-{job_id[:8]}",
            daemon=True,
        )
        recorder.start()
        status: str = "completed"
        error: str | None = None
        try:
            with self.session_factory() as session:
                session.execute(
                    update(BulkJob)
                    .where(BulkJob.id == job_id)
                    .values(status="running", started_at=utcnow())
                )
                session.commit()
            _config, service = self._current()
            summary = self._bulk_send(job_id, service, kind, numbers, body, media_url, outcomes.put)
            # Anything the callback did not report is settled from the summary.
            for item in summary.get("results", None) or []:
                outcomes.put(item)
        except Exception as exc:
            logger.exception("bulk job %s failed", job_id)
            status, error = "failed", f"the bulk send failed: {type(exc).__name__}"
        finally:
            outcomes.put(None)
            recorder.join()
            if self._stopping.is_set() and status == "completed":
                status, error = "cancelled", "the service stopped before the job finished"
            self._finish_job(job_id, status=status, error=error)
            with self._lock:
                self._workers.discard(threading.current_thread())

    def _record_bulk_results(
        self,
        job_id: str,
        outcomes: queue.SimpleQueue[Mapping[str, Any] | None],
        num_segments: int,
    ) -> None:
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
                self._record_bulk_batch(job_id, items, num_segments)
            except IntegrityError:
                # A SID already recorded: after an ambiguous answer the fan-out's lookup
                # matched a message another send had recorded. One by one, so that only
                # that recipient is affected.
                for item in items:
                    self._record_bulk_alone(job_id, item, num_segments)
            except Exception:
                logger.exception("recording bulk results failed (job %s)", job_id)

    def _record_bulk_batch(
        self, job_id: str, items: list[Mapping[str, Any]], num_segments: int
    ) -> None:
        with self.session_factory() as session:
            touched = [
                self._record_bulk_result(session, job_id, item, num_segments) for item in items
            ]
            session.commit()
            self._catch_up(session, [m for m in touched if m is not None])

    def _record_bulk_alone(self, job_id: str, item: Mapping[str, Any], num_segments: int) -> None:
        try:
            try:
                self._record_bulk_batch(job_id, [item], num_segments)
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
                self._record_bulk_batch(job_id, [unknown], num_segments)
        except Exception:
            logger.exception("recording a bulk result failed (job %s)", job_id)

    def _bulk_send(
        self,
        job_id: str,
        service: Any,
        kind: str,
        numbers: list[str],
        body: str,
        media_url: str | None,
        on_result: Callable[[Mapping[str, Any]], object],
    ) -> Mapping[str, Any]:
        config = self.config
        sender = config.whatsapp_number if kind == "whatsapp" else config.phone_number
        # The engine's fan-out, as a job we can cancel when the service stops.
        job = service.bulk_send(
            numbers,
            body,
            from_=sender,
            media_url=media_url,
            whatsapp=kind == "whatsapp",
            status_callback=self.status_callback_url,
            region=self.settings.DEFAULT_REGION,
            on_result=on_result,
            # on_result reports every recipient: no need to keep them all in memory.
            keep_results=False,
        )
        with self._lock:
            self._jobs[job_id] = job
        try:
            return job.wait()  # type: ignore[no-any-return]
        finally:
            with self._lock:
                self._jobs.pop(job_id, None)

    def _record_bulk_result(
        self, session: Session, job_id: str, result: Mapping[str, Any], num_segments: int
    ) -> Message | None:
        to = _strip_channel(str(result.get("to") or ""))
        if not to:
            return None
        if not to.startswith("+"):
            try:
                to = self.normalize(to)
            except ValueError:
                return None
        message = session.scalar(
            select(Message).where(Message.bulk_job_id == job_id, Message.to_number == to)
        )
        if message is None or message.status != "pending":
            return None
        status = str(result.get("status") or "")
        outcome = dict(result)
        if status == "duplicate":
            return None
        if status == "sent" or (result.get("success") and result.get("message_sid")):
            # Accepted by Twilio: its first status is `queued`; callbacks take it on. The
            # fan-out does not read num_segments from each answer: it is the job's own count.
            outcome.update(success=True, status="queued", num_segments=num_segments)
        elif status == "cancelled":
            message.status = "canceled"
            message.error = "not sent: the bulk job was cancelled"
            return message
        else:
            outcome["success"] = False
        self._record_result(session, message, outcome, commit=False)
        return message

    def _finish_job(self, job_id: str, *, status: str, error: str | None) -> None:
        with self.session_factory() as session:
            session.execute(
                update(Message)
                .where(Message.bulk_job_id == job_id, Message.status == "pending")
                .values(
                    status="unknown",
                    error="the outcome was not reported; check the message log at Twilio",
                )
            )
            session.execute(
                update(BulkJob)
                .where(BulkJob.id == job_id)
                .values(status=status, error=error, finished_at=utcnow())
            )
            session.commit()

    def _mark_interrupted_jobs(self) -> None:
        """Jobs left running by a previous process: their unreported recipients are unknown."""
        with self.session_factory() as session:
            job_ids = session.scalars(
                select(BulkJob.id).where(BulkJob.status.in_(("queued", "running")))
            ).all()
        for job_id in job_ids:
            logger.warning("bulk job %s was interrupted by a restart", job_id)
            self._finish_job(job_id, status="interrupted", error="the service stopped")
        # Single sends whose answer was never recorded: sent or not, nobody knows. Only
        # rows older than any request could take, in case another process shares the DB.
        cutoff = utcnow() - timedelta(minutes=5)
        with self.session_factory() as session:
            result = session.execute(
                update(Message)
                .where(
                    Message.status == "pending",
                    Message.bulk_job_id.is_(None),
                    Message.created_at < cutoff,
                )
                .values(
                    status="unknown",
                    error="the service stopped before Twilio's answer was recorded; "
                    "check the message log at Twilio",
                )
            )
            session.commit()
        if result.rowcount:  # type: ignore[attr-defined]
            logger.warning("%d message(s) were left pending by a restart", result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def job_counts(session: Session, job_id: str) -> dict[str, int]:
        """Recipients of a job per status."""
        rows = session.execute(
            select(Message.status, func.count())
            .where(Message.bulk_job_id == job_id)
            .group_by(Message.status)
        ).all()
        return {status: int(count) for status, count in rows}


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
