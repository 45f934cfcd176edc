"""Instances: a record's fields declared once, as annotations, and parsed on arrival.

The JSON member is the attribute's name (``from_`` reads ``from``); the annotation picks the
parser (``datetime``: RFC 2822 in API 2010-04-01, ISO 8601 elsewhere; ``int``; ``Decimal``;
anything else as sent). The fetchable, deletable and mutable steps reach the record's
context (``_context``) for ``fetch``, ``delete`` and ``update``.
"""

from __future__ import annotations

from twiliocore.rest._values import int_or_none, iso8601, rfc2822, to_decimal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable, Mapping
    from typing import Any, ClassVar, Self

    from twiliocore.client import Client
    from twiliocore.rest.base import ContextResource

__all__ = ["DeletableInstance", "FetchableInstance", "InstanceResource", "MutableInstance"]

V2010 = "2010-04-01"
_SHOWN = ("sid", "status", "phone_number")  # the fields a repr shows, when the record has them


def _parser(annotation: str, version: str) -> Callable[[Any], Any] | None:
    """The parser an annotation names (None: the JSON value as sent)."""
    if "datetime" in annotation:
        return rfc2822 if version == V2010 else iso8601
    if annotation.startswith("int"):
        return int_or_none
    if "Decimal" in annotation:
        return to_decimal
    return None


class InstanceResource:
    """A record as Twilio sent it, its fields as attributes; ``to_dict()`` gives the JSON back.

    Subclasses declare each field once, as an annotation (see the module docstring).
    ``_hidden`` lists JSON members that are dropped and never kept (an account's auth token).
    """

    _version: ClassVar[str] = V2010
    _hidden: ClassVar[tuple[str, ...]] = ()
    _fields: ClassVar[tuple[tuple[str, str, Callable[[Any], Any] | None], ...]] = ()

    uri: str | None
    date_created: _dt.datetime | None
    date_updated: _dt.datetime | None

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        fields: dict[str, tuple[str, str, Callable[[Any], Any] | None]] = {}
        for klass in reversed(cls.__mro__):
            for attr, annotation in vars(klass).get("__annotations__", {}).items():
                if attr.startswith("_") or "ClassVar" in str(annotation):
                    continue
                parse = _parser(str(annotation), cls._version)
                fields[attr] = (attr, attr.removesuffix("_"), parse)
        cls._fields = tuple(fields.values())

    def __init__(
        self, client: Client, payload: Mapping[str, Any], solution: dict[str, str]
    ) -> None:
        self._client = client
        self._solution = solution
        self._properties = {k: v for k, v in payload.items() if k not in self._hidden}
        for attr, member, parse in self._fields:
            value = payload.get(member)
            setattr(self, attr, value if parse is None else parse(value))

    def to_dict(self) -> dict[str, Any]:
        """The resource's JSON fields as Twilio sent them."""
        return dict(self._properties)

    def __repr__(self) -> str:
        shown = "".join(f" {k}={self._properties[k]}" for k in _SHOWN if k in self._properties)
        return f"<twiliocore.{type(self).__name__}{shown}>"


class FetchableInstance(InstanceResource):
    """An instance with a context (``_context``): ``fetch()`` reads it again."""

    _context: ClassVar[type[ContextResource[Any]]]

    def _proxy(self) -> Any:
        key = self._context._sid_key
        value = getattr(self, key)
        if not value:
            raise ValueError(f"{key}: this {type(self).__name__} has no {key}")
        return self._context(self._client, **{**self._solution, key: value})

    def fetch(self) -> Self:
        """Fetch the current state of this record."""
        fetched: Self = self._proxy().fetch()
        return fetched

    async def fetch_async(self) -> Self:
        """Awaitable :meth:`fetch`."""
        fetched: Self = await self._proxy().fetch_async()
        return fetched


class DeletableInstance(FetchableInstance):
    """An instance that can also be deleted."""

    def delete(self) -> bool:
        """Delete this record; True on success."""
        return bool(self._proxy().delete())

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        return bool(await self._proxy().delete_async())


class MutableInstance(DeletableInstance):
    """An instance that can also be updated (arguments as its context's ``update``)."""

    def update(self, *args: Any, **kwargs: Any) -> Self:
        """Update this record; returns it as Twilio answered."""
        updated: Self = self._proxy().update(*args, **kwargs)
        return updated

    async def update_async(self, *args: Any, **kwargs: Any) -> Self:
        """Awaitable :meth:`update`."""
        updated: Self = await self._proxy().update_async(*args, **kwargs)
        return updated
