"""``BulkOptions``: how a bulk job sends, one frozen value shared by every bulk entry point.

It mirrors the C++ ``twiliocore::BulkOptions`` (``cpp/include/twiliocore/fanout.h``) and is
taken by ``Client.bulk_send``, :func:`twiliocore.bulk.start_bulk_job` and
``SMSService``/``AsyncSMSService.send_bulk_sms``/``send_bulk_whatsapp``; their keyword
arguments build one. Values are checked once, when it is made: a bad one raises
``ValueError`` (``TypeError`` for a value of the wrong type) naming the field.

Example::

    from twiliocore import BulkOptions, Client

    options = BulkOptions(from_="+15005550006", window=32, mps=10.0, retry_policy="fail")
    job = Client().bulk_send(numbers, "Closed on Monday.", options=options)
    faster = options.replace(window=128)

It is a small frozen class of its own rather than a :mod:`dataclasses` one: ``dataclasses``
imports ``inspect`` and with it about 3 MB of modules into every process that sends in bulk,
which the fan-out's memory budget counts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from typing import Any, Self

__all__ = ["RETRY_POLICIES", "BulkOptions"]

#: ``retry_policy`` values (the C++ ``RetryPolicy``).
RETRY_POLICIES = ("reconcile", "retry", "fail")
MAX_WINDOW = 10000


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class BulkOptions:
    """How a bulk job sends (immutable; ``replace()`` gives a changed copy).

    Can be shared between threads and tasks.

    Attributes:
        from_: sender (E.164, short code or alphanumeric ID).
        messaging_service_sid: ``MG...``: Twilio picks the sender from the service.
        body: the text for recipients without their own.
        media_url: one URL or several (at most 10), kept as a tuple.
        status_callback: URL for Twilio's status callbacks.
        region: default region for numbers written without ``+``.
        whatsapp: send over WhatsApp (``whatsapp:`` added to recipients and sender).
        smart_encoded: send ``SmartEncoded=true``; pacing and the duration estimate then
            count the body's segments after Smart Encoding.
        window: most requests in flight (1..10000).
        mps: message segments per second to pace to from the start; ``None``: the sender's
            default rate (1 long code, 3 toll-free, 100 short code), applied once the
            estimated queue at Twilio nears its cap.
        retry_policy: ``"reconcile"`` (ambiguous outcomes looked up before any resend),
            ``"retry"`` (may send twice) or ``"fail"`` (ambiguous outcomes reported
            ``unknown``).
        max_attempts: create requests per recipient, resends included (>= 1).
        backoff_base: seconds of the first retry's backoff (> 0), doubling with jitter.
        reconcile_delays: seconds waited before each reconciliation lookup (each >= 0).
        progress_interval: seconds between ``on_progress`` calls (> 0).
        keep_results: keep per-recipient results for ``BulkJob.results`` (turn off for very
            large jobs and use ``on_result``).
        seed: seed of the retry jitter (0: random).
    """

    __slots__ = _FIELDS = (
        "from_",
        "messaging_service_sid",
        "body",
        "media_url",
        "status_callback",
        "region",
        "whatsapp",
        "smart_encoded",
        "window",
        "mps",
        "retry_policy",
        "max_attempts",
        "backoff_base",
        "reconcile_delays",
        "progress_interval",
        "keep_results",
        "seed",
    )

    from_: str | None
    messaging_service_sid: str | None
    body: str | None
    media_url: str | tuple[str, ...] | None
    status_callback: str | None
    region: str
    whatsapp: bool
    smart_encoded: bool
    window: int
    mps: float | None
    retry_policy: str
    max_attempts: int
    backoff_base: float
    reconcile_delays: tuple[float, ...]
    progress_interval: float
    keep_results: bool
    seed: int

    def __init__(
        self,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        body: str | None = None,
        media_url: str | tuple[str, ...] | None = None,
        status_callback: str | None = None,
        region: str = "US",
        whatsapp: bool = False,
        smart_encoded: bool = False,
        window: int = 64,
        mps: float | None = None,
        retry_policy: str = "reconcile",
        max_attempts: int = 8,
        backoff_base: float = 0.25,
        reconcile_delays: tuple[float, ...] = (0.5, 2.0, 5.0),
        progress_interval: float = 0.25,
        keep_results: bool = True,
        seed: int = 0,
    ) -> None:
        values = locals()
        for name in self._FIELDS:
            object.__setattr__(self, name, values[name])
        self._check()

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError  # only on this error path

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, BulkOptions)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle and copy rebuild through __init__ (setting slots one by one is refused).
        return (_from_values, (self._values(),))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"BulkOptions({fields})"

    def _check(self) -> None:
        for name in ("from_", "messaging_service_sid", "body", "status_callback"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name}: expected str or None, got {type(value).__name__}")
        for name in ("whatsapp", "smart_encoded", "keep_results"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TypeError(f"{name}: expected bool, got {type(value).__name__}")
        if not isinstance(self.region, str) or not self.region:
            raise ValueError("region: must be a region code such as 'US'")
        window = self.window
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"window: must be an int between 1 and {MAX_WINDOW}")
        if self.mps is not None and (not _number(self.mps) or not self.mps > 0):
            raise ValueError("mps: must be a positive number of segments per second, or None")
        if self.retry_policy not in RETRY_POLICIES:
            raise ValueError(f"retry_policy: must be one of {', '.join(RETRY_POLICIES)}")
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError("max_attempts: must be an int >= 1")
        for name in ("backoff_base", "progress_interval"):
            value = getattr(self, name)
            if not _number(value) or not value > 0:
                raise ValueError(f"{name}: must be a number of seconds > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError("seed: must be an int >= 0")
        delays = tuple(self.reconcile_delays)
        if not all(_number(d) and d >= 0 for d in delays):
            raise ValueError("reconcile_delays: must be numbers of seconds >= 0")
        object.__setattr__(self, "reconcile_delays", delays)
        media = self.media_url
        if media is not None and not isinstance(media, str):
            media = tuple(media)
            if not all(isinstance(url, str) for url in media):
                raise TypeError("media_url: expected a str or an iterable of str")
            object.__setattr__(self, "media_url", media)

    @property
    def media_urls(self) -> list[str]:
        """``media_url`` as a list (empty without media)."""
        if self.media_url is None:
            return []
        return [self.media_url] if isinstance(self.media_url, str) else list(self.media_url)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (checked as a new one is).

        Raises:
            TypeError: a name that is not a field.
        """
        unknown = sorted(set(changes) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r} (not a BulkOptions field)")
        values: dict[str, Any] = {name: getattr(self, name) for name in self._FIELDS}
        return type(self)(**{**values, **changes})

    @classmethod
    def build(cls, options: BulkOptions | None, settings: dict[str, Any]) -> BulkOptions:
        """``options`` (default: the defaults) with the ``settings`` not None applied.

        This is how keyword arguments of the bulk entry points become options: a keyword
        left at ``None`` keeps the options' value.

        Raises:
            TypeError: ``options`` is not a BulkOptions, or a setting is not a field.
        """
        if options is not None and not isinstance(options, BulkOptions):
            raise TypeError(f"options: expected BulkOptions, got {type(options).__name__}")
        changes = {name: value for name, value in settings.items() if value is not None}
        if options is None:
            options = cls()
        return options.replace(**changes) if changes else options

    def core_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``_core.BulkJob`` (the binding) for these options."""
        return {
            "from_": self.from_ or "",
            "messaging_service_sid": self.messaging_service_sid or "",
            "body": self.body or "",
            "media_urls": self.media_urls,
            "status_callback": self.status_callback or "",
            "region": self.region,
            "whatsapp": self.whatsapp,
            "smart_encoded": self.smart_encoded,
            "window": self.window,
            "mps": float(self.mps or 0.0),
            "retry_policy": self.retry_policy,
            "max_attempts": self.max_attempts,
            "keep_results": self.keep_results,
            "progress_interval": float(self.progress_interval),
            "reconcile_delays": list(self.reconcile_delays),
            "backoff_base": float(self.backoff_base),
            "seed": self.seed,
        }


def _from_values(values: tuple[Any, ...]) -> BulkOptions:
    """A :class:`BulkOptions` from its field values in order (unpickling and copies)."""
    return BulkOptions(**dict(zip(BulkOptions._FIELDS, values, strict=True)))
