r"""SMS segment counting, as Twilio bills and paces messages.

A body made only of GSM-7 characters (3GPP TS 23.038 default alphabet, plus the
extension table ``^{}\[~]|€`` and form feed at two septets each) is sent as GSM-7:
up to 160 septets in one SMS, otherwise parts of 153 septets. Any other character
switches the whole body to UCS-2: up to 70 UTF-16 code units in one SMS, otherwise
parts of 67. Neither an extension character nor a surrogate pair (an emoji) is split
across parts. An empty body counts as 1 segment, as Twilio counts a media-only message.

Example::

    >>> from twiliocore.segments import count_segments
    >>> count_segments("Your code is 123456")
    SegmentInfo(encoding='GSM-7', num_segments=1, units=19, characters=19)
"""

from __future__ import annotations

from typing import NamedTuple

from twiliocore import _core

__all__ = ["SegmentInfo", "count_segments"]


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


def count_segments(body: str) -> SegmentInfo:
    """Count the SMS segments of ``body`` the way Twilio does.

    Thread-safe; the work runs in C++ without the GIL.

    Args:
        body: the message text.

    Returns:
        The encoding, segment count, unit count and character count.

    Raises:
        TypeError: if ``body`` is not a ``str``.
        ValueError: if ``body`` holds a lone surrogate (it cannot be sent).
    """
    if not isinstance(body, str):
        raise TypeError(f"body: expected str, got {type(body).__name__}")
    try:
        encoded = body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"body: not encodable as UTF-8 ({exc.reason})") from exc
    encoding, num_segments, units, characters = _core.count_segments(encoded)
    return SegmentInfo(encoding, num_segments, units, characters)
