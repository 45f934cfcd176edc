"""Request parameters: each declared once as Python name -> Twilio name -> converter.

A resource lists its filters, create and update parameters as :class:`Param` (or builds them
with :func:`params`, which derives Twilio's PascalCase name); the base binds the call's
arguments to them (:func:`bind`, as a signature would) and serialises the values
(:func:`form_pairs`).
"""

from __future__ import annotations

import builtins

from twiliocore.rest._values import date_param, integer, serialize

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    Converter = Callable[[Any, str], builtins.list[str]]
    Pairs = builtins.list[tuple[str, str]]

__all__ = ["Param", "bind", "choice", "date", "form_pairs", "params", "whole"]


def date(value: Any, name: str) -> builtins.list[str]:
    """Converter of a date filter (a date, a datetime's GMT date or ``YYYY-MM-DD``)."""
    text = date_param(value, name)
    return [text] if text else []


def whole(low: int, high: int | None = None) -> Converter:
    """Converter of an integer parameter in ``low..high`` (an int or a str of digits)."""

    def convert(value: Any, name: str) -> builtins.list[str]:
        return [] if value is None else [str(integer(value, name, low, high))]

    return convert


def choice(*allowed: str) -> Converter:
    """Converter of a parameter that takes one of ``allowed``."""

    def convert(value: Any, name: str) -> builtins.list[str]:
        if value is not None and value not in allowed:
            raise ValueError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
        return serialize(value)

    return convert


def _serialize(value: Any, name: str) -> builtins.list[str]:
    return serialize(value)


class Param:
    """One parameter of a request: its Python name, Twilio's name and its converter.

    Args:
        name: the keyword argument (``from_``, ``date_sent_before``).
        twilio: the query or form name (``From``, ``DateSent<``).
        convert: ``(value, name) -> [str, ...]``; default :func:`serialize` (lists repeat
            the key, None is left out).
    """

    __slots__ = ("convert", "name", "twilio")

    def __init__(self, name: str, twilio: str, convert: Converter = _serialize) -> None:
        self.name = name
        self.twilio = twilio
        self.convert = convert

    def pairs(self, value: Any) -> Pairs:
        """The ``(Twilio name, text)`` pairs of ``value``."""
        return [(self.twilio, text) for text in self.convert(value, self.name)]


def params(*names: str, **converters: Converter) -> tuple[Param, ...]:
    """Parameters whose Twilio name is the PascalCase of their name (``sms_url``: ``SmsUrl``).

    ``converters`` gives a converter by name (default :func:`serialize`).
    """
    for name in converters:
        if name not in names:
            raise ValueError(f"converters: {name!r} is not one of the names")
    return tuple(
        Param(
            name,
            "".join(part.capitalize() for part in name.removesuffix("_").split("_")),
            converters.get(name, _serialize),
        )
        for name in names
    )


def bind(
    names: Sequence[str], args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Positional and keyword arguments by name, as a signature listing ``names`` would.

    Raises:
        TypeError: too many positional arguments, an unknown keyword, or one given twice.
    """
    if len(args) > len(names):
        raise TypeError(f"{where}() takes {len(names)} arguments, {len(args)} were given")
    bound = dict(zip(names, args, strict=False))
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
        if name in bound:
            raise TypeError(f"{where}() got multiple values for argument {name!r}")
        bound[name] = value
    return bound


def form_pairs(params: Sequence[Param], values: Mapping[str, Any]) -> Pairs:
    """The ``(Twilio name, text)`` pairs of the ``values`` given, in the order of ``params``."""
    return [pair for p in params if p.name in values for pair in p.pairs(values[p.name])]
