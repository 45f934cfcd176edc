"""Phone numbers to E.164, with Google's libphonenumber in the C++ core.

Any common notation is accepted: national numbers read with a default region
(``"(415) 555-2671"``), international ones with ``+`` or the region's IDD prefix
(``"00 44 20 7946 0958"`` from DE), RFC 3966 ``tel:`` URIs, full-width or Arabic-Indic
digits, and vanity letters (``"1-800-FLOWERS"``).

Rejected numbers raise :class:`twiliocore.errors.InvalidPhoneNumber` whose ``reason`` is
one of ``"not a number"``, ``"invalid country code"``, ``"too short"``, ``"too long"`` or
``"not valid for its region"``.

Example::

    >>> from twiliocore.phone import to_e164, normalize_address
    >>> to_e164("(415) 555-2671")
    '+14155552671'
    >>> to_e164("00 44 20 7946 0958", "DE")
    '+442079460958'
    >>> normalize_address("whatsapp:415.555.2671")
    'whatsapp:+14155552671'

All functions are thread-safe and run in C++ without the GIL.
"""

from __future__ import annotations

from twiliocore import _core
from twiliocore.errors import InvalidPhoneNumber

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Iterable

    from twiliocore._types import NumberInfo, PhoneResult

__all__ = [
    "NumberInfo",
    "PhoneResult",
    "metadata_version",
    "normalize_address",
    "number_info",
    "to_e164",
    "to_e164_many",
]


def _check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected str, got {type(value).__name__}")
    return value


def to_e164(number: str, region: str = "US", *, strict: bool = True) -> str:
    """Parse ``number`` and return it in E.164 form.

    Args:
        number: the number in any common notation.
        region: ISO 3166 alpha-2 region for numbers written without ``+``
            (case-insensitive); ``""`` or ``"ZZ"`` accepts only international numbers.
        strict: if True (default), the number must be valid for its region; if False,
            a possible length is enough (for ranges newer than the metadata).

    Returns:
        The number as ``+<country code><national number>``.

    Raises:
        InvalidPhoneNumber: if the number is rejected; ``.reason`` says why.
        ValueError: if ``region`` is not a known region code.
        TypeError: if ``number`` or ``region`` is not a str.
    """
    ok, value = _core.to_e164(_check_str("number", number), _check_str("region", region), strict)
    if not ok:
        raise InvalidPhoneNumber(number, value)
    return value


def to_e164_many(
    numbers: Iterable[str], region: str = "US", *, strict: bool = True
) -> list[PhoneResult]:
    """Convert many numbers at once; one result per input, in input order, never raising per item.

    Args:
        numbers: any iterable of str.
        region: default region, as for :func:`to_e164`.
        strict: validity policy, as for :func:`to_e164`.

    Returns:
        A :class:`PhoneResult` per input.

    Raises:
        ValueError: if ``region`` is not a known region code.
        TypeError: if an item is not a str (the message gives its index).
    """
    items = list(numbers)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"numbers[{index}]: expected str, got {type(item).__name__}")
    outcomes = _core.to_e164_many(items, _check_str("region", region), strict)
    from twiliocore._types import PhoneResult

    return [
        PhoneResult(item, value, None) if ok else PhoneResult(item, None, value)
        for item, (ok, value) in zip(items, outcomes, strict=True)
    ]


def normalize_address(address: str, region: str = "US", *, strict: bool = True) -> str:
    """Normalise a Twilio address: a number to E.164, keeping a ``whatsapp:`` prefix.

    Args:
        address: ``"+14155552671"``, ``"(415) 555-2671"``, ``"whatsapp:415 555 2671"``, ...
        region: default region, as for :func:`to_e164`.
        strict: validity policy, as for :func:`to_e164`.

    Returns:
        ``"+14155552671"`` or ``"whatsapp:+14155552671"`` (prefix in lowercase).

    Raises:
        InvalidPhoneNumber: if the number part is rejected.
        ValueError: if ``region`` is not a known region code.
    """
    ok, value = _core.normalize_address(
        _check_str("address", address), _check_str("region", region), strict
    )
    if not ok:
        raise InvalidPhoneNumber(address, value)
    return value


def number_info(number: str, region: str = "US", *, strict: bool = True) -> NumberInfo:
    """Parse ``number`` and describe it: E.164 form, line type, region and calling code.

    Args:
        number: the number in any common notation.
        region: default region, as for :func:`to_e164`.
        strict: validity policy, as for :func:`to_e164`; a number accepted only
            leniently has type ``"unknown"``.

    Returns:
        A :class:`NumberInfo`.

    Raises:
        InvalidPhoneNumber: if the number is rejected.
        ValueError: if ``region`` is not a known region code.
    """
    ok, value, kind, number_region, country_code = _core.number_info(
        _check_str("number", number), _check_str("region", region), strict
    )
    if not ok:
        raise InvalidPhoneNumber(number, value)
    from twiliocore._types import NumberInfo

    return NumberInfo(value, kind, number_region, country_code)


def metadata_version() -> str:
    """Return the libphonenumber release whose metadata is compiled in, e.g. ``"8.12.57"``.

    Compare with the ``phonenumbers`` PyPI package's ``__version__`` when benchmarking.
    """
    return _core.phone_metadata_version()


def __getattr__(name: str) -> object:
    """``PhoneResult`` and ``NumberInfo``, from :mod:`twiliocore._types` on first access."""
    if name in ("PhoneResult", "NumberInfo"):
        from twiliocore import _types

        return getattr(_types, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
