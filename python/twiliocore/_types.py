"""The package's result types, defined with :mod:`typing`: imported when first used.

``import twiliocore`` does not load :mod:`typing` (with :mod:`re`, which it imports, about
1 MB of a process's memory). These classes are reached through the modules that document them,
``twiliocore.bulk`` and ``twiliocore.phone``, which load this module on first access.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, TypedDict

__all__ = ["BulkResult", "BulkSummary", "NumberInfo", "PhoneResult", "Recipients"]

#: What ``recipients`` may hold: numbers, or (number, body) pairs for per-recipient bodies.
Recipients = Iterable[str | tuple[str, str | None]]


class BulkResult(TypedDict):
    """The outcome for one recipient.

    ``status`` is ``"sent"``, ``"failed"`` (Twilio refused it, or retries were exhausted),
    ``"invalid"`` (not a usable number; never sent), ``"duplicate"`` (an earlier recipient had
    the same number), ``"unknown"`` (the outcome could not be decided; see docs/bulk.md) or
    ``"cancelled"`` (not sent because the job was cancelled).
    """

    to: str
    status: str
    message_sid: str | None
    error_code: int | None
    error: str | None


class BulkSummary(TypedDict, total=False):
    """Counters of a bulk job (``results`` only in the summaries of ``send_bulk_*``)."""

    total: int
    sent: int
    failed: int
    invalid: int
    duplicates: int
    unknown: int
    cancelled: int
    retries: int
    duration_seconds: float
    rate: float
    results: list[BulkResult]


class PhoneResult(NamedTuple):
    """The outcome for one input of :func:`to_e164_many`.

    Attributes:
        input: the input as given.
        e164: the E.164 form, or ``None`` when rejected.
        reason: why it was rejected, or ``None`` when accepted.
    """

    input: str
    e164: str | None
    reason: str | None


class NumberInfo(NamedTuple):
    """What libphonenumber knows about a number.

    Attributes:
        e164: the E.164 form, e.g. ``"+447400123456"``.
        type: ``"mobile"``, ``"fixed_line"``, ``"fixed_line_or_mobile"``, ``"toll_free"``,
            ``"premium_rate"``, ``"shared_cost"``, ``"voip"``, ``"personal_number"``,
            ``"pager"``, ``"uan"``, ``"voicemail"`` or ``"unknown"``.
        region: ISO 3166 region code (``"GB"``), ``"001"`` for non-geographic numbers,
            ``"ZZ"`` when unknown.
        country_code: the calling code, e.g. ``44``.
    """

    e164: str
    type: str
    region: str
    country_code: int
