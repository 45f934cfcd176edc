r"""SMS segment counting, as Twilio bills and paces messages.

A body made only of GSM-7 characters (3GPP TS 23.038 default alphabet, plus the
extension table ``^{}\[~]|€`` and form feed at two septets each) is sent as GSM-7:
up to 160 septets in one SMS, otherwise parts of 153 septets. Any other character
switches the whole body to UCS-2: up to 70 UTF-16 code units in one SMS, otherwise
parts of 67. Neither an extension character nor a surrogate pair (an emoji) is split
across parts. An empty body counts as 1 segment, as Twilio counts a media-only message.

Twilio's Smart Encoding (``SmartEncoded=true`` on a create) replaces Unicode look-alikes
of GSM-7 characters (curly quotes, dashes, the ellipsis, Unicode spaces, ...) before
sending, when the whole body then fits GSM-7: :func:`smart_encode` applies it, and
``count_segments(body, smart_encoded=True)`` counts what Twilio then sends.

Example::

    >>> from twiliocore.segments import count_segments
    >>> count_segments("Your code is 123456")
    SegmentInfo(encoding='GSM-7', num_segments=1, units=19, characters=19)
    >>> count_segments("It\u2019s here\u2026", smart_encoded=True).encoding
    'GSM-7'
"""

from __future__ import annotations

from typing import NamedTuple

from twiliocore import _core

__all__ = ["SegmentInfo", "count_segments", "smart_encode"]


class SegmentInfo(NamedTuple):
    """How a message body travels as SMS.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        num_segments: the number of SMS parts (1 for an empty body).
        units: septets for GSM-7, UTF-16 code units for UCS-2.
        characters: Unicode code points in the body.
    """

    encoding: str
    num_segments: int
    units: int
    characters: int


def _utf8(body: str) -> bytes:
    if not isinstance(body, str):
        raise TypeError(f"body: expected str, got {type(body).__name__}")
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"body: not encodable as UTF-8 ({exc.reason})") from exc


def smart_encode(body: str) -> str:
    """Apply Twilio's Smart Encoding to ``body``, as ``SmartEncoded=true`` does.

    Every Unicode look-alike in Twilio's table (curly quotes, dashes, the ellipsis,
    fullwidth forms, Unicode spaces, invisible controls, ...) is replaced by its GSM-7
    equivalent, provided that the whole result is then GSM-7. A body with a character
    that has no GSM-7 equivalent (an emoji, Cyrillic text) is returned unchanged: it is
    sent as UCS-2 either way. Thread-safe; the work runs in C++ without the GIL.

    Example::

        >>> smart_encode("\u201cHi\u201d \u2014 see you\u2026")
        '"Hi" - see you...'

    Args:
        body: the message text.

    Returns:
        The text Twilio sends.

    Raises:
        TypeError: if ``body`` is not a ``str``.
        ValueError: if ``body`` holds a lone surrogate (it cannot be sent).
    """
    return _core.smart_encode(_utf8(body))


def count_segments(body: str, *, smart_encoded: bool = False) -> SegmentInfo:
    """Count the SMS segments of ``body`` the way Twilio does.

    Thread-safe; the work runs in C++ without the GIL.

    Args:
        body: the message text.
        smart_encoded: count the body as sent with ``SmartEncoded=true``, i.e. after
            :func:`smart_encode`.

    Returns:
        The encoding, segment count, unit count and character count (of the text sent).

    Raises:
        TypeError: if ``body`` is not a ``str``.
        ValueError: if ``body`` holds a lone surrogate (it cannot be sent).
    """
    encoded = _utf8(body)
    if smart_encoded:
        encoded = _core.smart_encode(encoded).encode("utf-8")
    encoding, num_segments, units, characters = _core.count_segments(encoded)
    return SegmentInfo(encoding, num_segments, units, characters)
