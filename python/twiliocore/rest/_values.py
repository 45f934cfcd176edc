"""How values cross the wire: parameters serialised as twilio-python does, fields parsed back.

Every resource's parameters and fields go through these functions (``rest/base.py`` names
them in each :class:`~twiliocore.rest.base.Param` and field annotation).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    import datetime as _dt
    import decimal as _decimal
    from typing import Any

__all__ = [
    "date_param",
    "integer",
    "iso8601",
    "int_or_none",
    "quote",
    "read_limits",
    "rfc2822",
    "serialize",
    "to_decimal",
]


def _in_utc(value: _dt.datetime) -> _dt.datetime:
    """``value`` in UTC: an aware datetime converted, a naive one taken as UTC already."""
    if value.utcoffset() is None:
        return value
    import datetime

    return value.astimezone(datetime.timezone.utc)


def serialize(value: Any) -> list[str]:
    """Serialise a parameter value as twilio-python does; a list gives repeated keys.

    Booleans become ``"true"``/``"false"``, datetimes ``%Y-%m-%dT%H:%M:%SZ`` in UTC (an
    aware datetime is converted first; twilio-python would label its local time ``Z``),
    dates ``YYYY-MM-DD``, dicts JSON; ``None`` is dropped (empty list).
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [item for element in value for item in serialize(element)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str | int | float):
        return [str(value)]
    if isinstance(value, dict):
        import json  # here, not at import: few parameters are dicts

        return [json.dumps(value)]
    import datetime  # loaded by then in any program that has a date to pass

    if isinstance(value, datetime.datetime):
        return [_in_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")]
    if isinstance(value, datetime.date):
        return [value.isoformat()]
    return [str(value)]


def date_param(value: _dt.date | str | None, name: str) -> str:
    """A date filter's value: a date, a datetime (its GMT date) or ``YYYY-MM-DD``; "" for None.

    Raises:
        TypeError: ``value`` is none of those (the message names ``name``).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    import datetime  # loaded by then in any program that has a date to pass

    if isinstance(value, datetime.datetime):
        return _in_utc(value).date().isoformat()  # Twilio filters by GMT date
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{name}: expected date, datetime or str, got {type(value).__name__}")


def integer(value: int | str, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``low..high``: an int, or a str of digits as twilio-python sends.

    Raises:
        TypeError: neither an int nor a str (a bool, a float, ...).
        ValueError: a str that is not a whole number, or a number out of range.
    """
    if isinstance(value, str):
        digits = value.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"{name}: expected a whole number, got {value!r}")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise TypeError(f"{name}: expected an int or a str of digits, got {type(value).__name__}")
    if number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be {bounds}, got {number}")
    return number


def read_limits(limit: int | None, page_size: int | str | None) -> tuple[int | None, int]:
    """``limit`` (None: all) and the ``PageSize`` to ask for (0: Twilio's default of 50).

    As twilio-python's ``read_limits``, 0 means unset for both, and a limit without a page
    size reads in pages of ``min(limit, 1000)``.
    """
    if limit is not None:
        limit = integer(limit, "limit", 0) or None
    size = 0 if page_size is None else integer(page_size, "page_size", 0, 1000)
    return limit, size or (min(limit, 1000) if limit else 0)


def rfc2822(value: Any) -> _dt.datetime | None:
    """An RFC 2822 date (as API 2010-04-01 writes them) as an aware datetime; None if not one."""
    if not value or not isinstance(value, str):
        return None
    import email.utils  # on first use: most programs never parse a date

    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def iso8601(value: Any) -> _dt.datetime | None:
    """An ISO 8601 date (as the v1/v2 domains write them) as an aware datetime; None if not."""
    if not value or not isinstance(value, str):
        return None
    import datetime

    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def int_or_none(value: Any) -> int | None:
    """``value`` as an int (Twilio writes some as strings); None when absent or not a number."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def to_decimal(value: Any) -> _decimal.Decimal | None:
    """``value`` as a Decimal, as twilio-python's ``deserialize.decimal`` (None if absent)."""
    if value is None or value == "":
        return None
    import decimal  # on first use: only coordinates are decimals

    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return None


# RFC 3986 unreserved characters: kept as they are in a path segment.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(value: str) -> str:
    """``value`` as one URL path segment: anything but unreserved characters is ``%XX``."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in value.encode())
