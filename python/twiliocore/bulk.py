"""Bulk fan-out: one message to many recipients, fast, paced, and never sent twice.

The work runs in the C++ core on the client's shared HTTP engine; Python only feeds the
recipients (streamed from any iterable, in chunks) and receives results. See ``docs/bulk.md``.

Example::

    from twiliocore import Client

    client = Client()  # TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN
    job = client.bulk_send(
        ("+1415555%04d" % i for i in range(10_000)),
        "Our office is closed on Monday.",
        from_="+15005550006",
        on_progress=lambda p: print(p["sent"], "sent"),
    )
    summary = job.wait()  # Ctrl-C cancels the job
    print(summary["sent"], summary["failed"], summary["invalid"])
"""

from __future__ import annotations

import _thread
import atexit

from twiliocore import _core, _log

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from twiliocore._types import BulkResult, BulkSummary, Recipients
    from twiliocore.bulk_options import BulkOptions

__all__ = [
    "BulkJob",
    "BulkOptions",
    "BulkResult",
    "BulkSummary",
    "Recipients",
    "start_bulk_job",
]

#: Above this estimated duration a job logs a warning (a sender's rate is the bottleneck).
LONG_JOB_SECONDS = 3600.0


_SUMMARY_KEYS = (
    "total",
    "sent",
    "failed",
    "invalid",
    "duplicates",
    "unknown",
    "cancelled",
    "retries",
    "duration_seconds",
    "rate",
)

# Jobs that may still be running, kept alive so that a job the caller dropped keeps sending,
# and cancelled at interpreter exit. Finished jobs are pruned whenever a job starts or a
# wait() ends: no thread per job, and no Python thread blocked in the core at finalization.
_active: set[BulkJob] = set()
_active_lock = _thread.allocate_lock()


def _keep_alive(job: BulkJob) -> None:
    with _active_lock:
        _active.difference_update([j for j in _active if j._job.done])
        _active.add(job)


class BulkJob:
    """A running bulk send, returned by ``Client.bulk_send``.

    Usage::

        job = client.bulk_send(numbers, "Hello", from_="+15005550006")
        summary = job.wait(timeout=600)

    Thread-safety: every method may be called from any thread; ``cancel()`` is meant to be
    called from another thread (or a signal handler) while ``wait()`` blocks.

    Attributes:
        estimated_seconds: estimated duration from the sender's rate, the body's segments and
            the number of recipients (0 when either is unknown, e.g. for a generator).
        rate: the sender's pacing rate in message segments per second (0 = not paced).
        segments: SMS segments of the job's body (as Twilio sends it: after Smart Encoding
            with ``smart_encoded=True``).
    """

    def __init__(self, core_job: _core.BulkJob) -> None:
        self._job = core_job
        self.estimated_seconds: float = core_job.estimated_seconds
        self.rate: float = core_job.rate
        self.segments: int = core_job.segments
        _keep_alive(self)

    def wait(self, timeout: float | None = None) -> BulkSummary:
        """Block until every recipient has a result; return the summary.

        The GIL is released while waiting; Ctrl-C (``KeyboardInterrupt``) cancels the job,
        waits briefly for requests already sent, and re-raises.

        Args:
            timeout: seconds to wait at most; ``None`` waits for the end.

        Returns:
            The summary counters (see :class:`BulkSummary`).

        Raises:
            TimeoutError: the job is still running after ``timeout`` (it keeps running).
            Exception: whatever the recipients iterable raised (the job stopped taking
                recipients at that point; ``summary`` shows what was done).
        """
        if timeout is not None and not timeout >= 0:
            raise ValueError("timeout: must be >= 0 or None")
        raw = self._job.wait(timeout)
        with _active_lock:
            _active.discard(self)
        return _summary(raw)

    def cancel(self) -> None:
        """Stop taking and sending recipients; requests already sent finish and are reported."""
        self._job.cancel()

    @property
    def done(self) -> bool:
        """True once every recipient has a result."""
        return bool(self._job.done)

    @property
    def summary(self) -> BulkSummary:
        """The counters so far."""
        return _summary(self._job.summary)

    @property
    def results(self) -> list[BulkResult]:
        """Per-recipient results so far, in completion order (empty with ``keep_results=False``)."""
        return self._job.results  # type: ignore[return-value]  # dicts of BulkResult's shape

    def __repr__(self) -> str:
        s = self._job.summary
        state = "done" if s["done"] else "running"
        return f"<BulkJob {state} total={s['total']} sent={s['sent']} failed={s['failed']}>"


def _summary(raw: dict[str, Any]) -> BulkSummary:
    return {k: raw[k] for k in _SUMMARY_KEYS}  # type: ignore[return-value]


def _check_callback(name: str, value: object) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name}: expected a callable or None, got {type(value).__name__}")


def start_bulk_job(
    core_client: Any,
    recipients: Recipients,
    body: str | None = None,
    *,
    options: BulkOptions | None = None,
    on_result: Callable[[BulkResult], object] | None = None,
    on_progress: Callable[[dict[str, Any]], object] | None = None,
    on_done: Callable[[], object] | None = None,
    **settings: Any,
) -> BulkJob:
    """Start a bulk send on ``core_client`` (a ``twiliocore._core.TwilioClient``).

    This is the implementation behind ``Client.bulk_send`` and ``SMSService.send_bulk_*``;
    see ``Client.bulk_send`` for the arguments. ``smart_encoded=True`` sends
    ``SmartEncoded=true`` with every create, and counts the segments that pace the job and
    estimate its duration on the body as Twilio then sends it
    (:func:`twiliocore.segments.smart_encode`).

    Args:
        core_client: the ``_core.TwilioClient`` to send with.
        recipients: numbers, or ``(number, body)`` pairs (any iterable, read lazily).
        body: the text for recipients without their own (over ``options.body``).
        options: the job's :class:`~twiliocore.BulkOptions`.
        on_result: called once per recipient with its result, on the job's thread.
        on_progress: called with the counters every ``progress_interval`` and at the end.
        on_done: called once, without arguments, on the job's thread when every recipient
            has a result (after the last ``on_progress``); exceptions are reported as
            unraisable. The asyncio bridge uses it to wake the awaiting task.
        **settings: :class:`~twiliocore.BulkOptions` fields by name, over ``options``.

    Returns:
        The running :class:`BulkJob`.

    Raises:
        ValueError: an argument is unusable (the message names it).
        TypeError: ``recipients`` is not iterable, or a callback is not callable.
    """
    if isinstance(recipients, (str, bytes)):
        raise TypeError("recipients: expected an iterable of numbers, got a single str")
    if not _defines(recipients, "__iter__"):
        raise TypeError(f"recipients: expected an iterable, got {type(recipients).__name__}")
    from twiliocore.bulk_options import BulkOptions

    opts = BulkOptions.build(options, {**settings, "body": body})
    if not opts.from_ and not opts.messaging_service_sid:
        raise ValueError("from_: a sender number (or messaging_service_sid) is required")
    _check_callback("on_result", on_result)
    _check_callback("on_progress", on_progress)
    _check_callback("on_done", on_done)
    expected = len(recipients) if _defines(recipients, "__len__") else -1  # type: ignore[arg-type]
    # The core hands each result over as a plain dict, which is what a BulkResult is.
    on_result_dict: Callable[[dict[str, Any]], object] | None = on_result  # type: ignore[assignment]
    core_job = _core.BulkJob(
        core_client,
        recipients,
        **opts.core_kwargs(),
        expected_recipients=expected,
        on_result=on_result_dict,
        on_progress=on_progress,
        on_done=on_done,
    )
    job = BulkJob(core_job)
    if job.estimated_seconds > LONG_JOB_SECONDS:
        _log.warning(
            __name__,
            "bulk send of %d recipients x %d segment(s) at %.0f segment(s)/s will take about "
            "%.1f hours; use a Messaging Service with more senders, or a higher-throughput "
            "sender (toll-free, short code), to send faster",
            expected,
            job.segments,
            job.rate,
            job.estimated_seconds / 3600,
        )
    return job


@atexit.register
def _cancel_active_jobs() -> None:
    # Before the interpreter finalizes: stop every job and wait (briefly) for requests already
    # sent, so no coordinator thread touches Python during shutdown.
    with _active_lock:
        jobs = list(_active)
    for job in jobs:
        job.cancel()
    for job in jobs:
        job._job.join(10.0)


def _defines(value: object, method: str) -> bool:
    # isinstance(value, collections.abc.Iterable / Sized) without importing collections: the
    # method is defined on the type and not set to None.
    return getattr(type(value), method, None) is not None


def __getattr__(name: str) -> object:
    """Names loaded on first use: the result types and ``BulkOptions``.

    ``BulkResult``, ``BulkSummary`` and ``Recipients`` come from :mod:`twiliocore._types`,
    ``BulkOptions`` and ``RETRY_POLICIES`` from :mod:`twiliocore.bulk_options`.
    """
    if name in ("BulkResult", "BulkSummary", "Recipients"):
        from twiliocore import _types

        return getattr(_types, name)
    if name in ("BulkOptions", "RETRY_POLICIES"):
        from twiliocore import bulk_options

        return getattr(bulk_options, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
