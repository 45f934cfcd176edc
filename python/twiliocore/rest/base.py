"""One base for every Twilio resource: list, context, page and instance.

A resource is declared once, in a small module under ``rest/<domain>/<version>/``:

- its **list** (a :class:`ReadableList` and/or :class:`CreatableList`) names the domain,
  version and path (``/Accounts/{account_sid}/IncomingPhoneNumbers.json``), the JSON member
  holding a page's records, its filters and create parameters as :class:`Param` (Python
  name -> Twilio name -> converter);
- its **context** (:class:`ContextResource`, :class:`DeletableContext` or
  :class:`MutableContext`) names the path of one record and its update parameters;
- its **instance** (:class:`InstanceResource` and the fetchable/deletable/mutable steps)
  declares its fields as annotations: the JSON member is the attribute's name (``from_``
  reads ``from``), and the annotation picks the parser (``datetime``: RFC 2822 in API
  2010-04-01, ISO 8601 elsewhere; ``int``; ``Decimal``; anything else as sent).

From that one declaration the base gives ``page``, ``get_page``, ``stream``, ``list``,
``create``, ``fetch``, ``update``, ``delete`` and their ``_async`` twins, as encode/httpx's
``BaseClient`` holds what ``Client`` and ``AsyncClient`` share: each operation builds its
request once (:meth:`ListResource._url`, the ``_*_request`` methods), and only sending it
differs between the twins. Every call goes through one generic request path on the C++
engine (``_core.TwilioClient.request``), whose answer is decoded from JSON once, in C++.
"""

from __future__ import annotations

import builtins

from twiliocore.errors import TwilioRestError
from twiliocore.rest._values import integer, quote, read_limits
from twiliocore.rest.domains import page_url
from twiliocore.rest.instance import (
    V2010,
    DeletableInstance,
    FetchableInstance,
    InstanceResource,
    MutableInstance,
)
from twiliocore.rest.params import Param, bind, choice, date, form_pairs, params, whole

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping
    from typing import Any, ClassVar, Generic, Self, TypeVar

    from twiliocore.client import Client

    InstanceT = TypeVar("InstanceT", bound="InstanceResource")
    ContextT = TypeVar("ContextT")
    Pairs = builtins.list[tuple[str, str]]
else:

    class Generic:
        """``typing.Generic`` at run time, without importing typing: ``Base[X]`` is ``Base``."""

        def __class_getitem__(cls, item: object) -> type:
            return cls

    InstanceT = ContextT = None

__all__ = [
    "V2010",
    "ContextResource",
    "CreatableList",
    "DeletableContext",
    "DeletableInstance",
    "FetchableInstance",
    "InstanceResource",
    "ListResource",
    "MutableContext",
    "MutableInstance",
    "Page",
    "Param",
    "ReadableList",
    "choice",
    "date",
    "params",
    "whole",
]

# --- requests ------------------------------------------------------------------------------


class _Failure:
    """Words a :class:`TwilioRestError` raised inside the block as twilio-python does.

    ``msg`` becomes what failed then Twilio's message (``"Unable to create record: ..."``),
    or only what failed when the answer carried no message; ``uri`` becomes the path relative
    to the API version (``/Accounts/AC.../Messages.json``). The full URL stays in ``url``.
    """

    __slots__ = ("_version", "_what")

    def __init__(self, what: str, version: str) -> None:
        self._what = what
        self._version = version

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if isinstance(exc, TwilioRestError):
            exc.msg = f"{self._what}: {exc.msg}" if exc.msg else self._what
            path = exc.url.split("?", 1)[0].split("#", 1)[0]
            at = path.find(f"/{self._version}/")
            exc.uri = path[at + len(self._version) + 1 :] if at >= 0 else path
            exc.args = (exc.status, exc.uri, exc.msg, exc.code, exc.method, exc.details)


CREATING, FETCHING, UPDATING, DELETING, PAGING = (
    "Unable to create record",
    "Unable to fetch record",
    "Unable to update record",
    "Unable to delete record",
    "Unable to fetch page",
)


class _Endpoint:
    """What lists and contexts share: the client, the path's values, and sending requests."""

    _domain: ClassVar[str] = "api"
    _version: ClassVar[str] = V2010
    _path: ClassVar[str]  # relative to the version, with {placeholders} from the solution

    def __init__(self, client: Client, **solution: str) -> None:
        for name, value in solution.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}: must be a non-empty str")
        self._client = client
        self._solution = solution

    def _url(self, path: str | None = None) -> str:
        """The absolute URL of ``path`` (default the resource's), placeholders filled."""
        values = {name: quote(value) for name, value in self._solution.items()}
        filled = (self._path if path is None else path).format(**values)
        return f"{self._client._urls[self._domain]}/{self._version}{filled}"

    def _send(
        self,
        what: str,
        method: str,
        url: str,
        query: Pairs | None = None,
        form: Pairs | None = None,
    ) -> Any:
        """The one request path: send on the engine, JSON decoded once (in C++)."""
        with _Failure(what, self._version):
            return self._client._core.request(method, url, query or [], form or [])

    async def _send_async(
        self,
        what: str,
        method: str,
        url: str,
        query: Pairs | None = None,
        form: Pairs | None = None,
    ) -> Any:
        """Awaitable :meth:`_send`."""
        with _Failure(what, self._version):
            return await self._client._core.request_async(method, url, query or [], form or [])


# --- contexts ------------------------------------------------------------------------------


class ContextResource(_Endpoint, Generic[InstanceT]):
    """One record by its path (``client.messages(sid)``): ``fetch()``."""

    _instance: ClassVar[type[Any]]
    #: The placeholder of ``_path`` that names the record, and the instance field holding it.
    _sid_key: ClassVar[str] = "sid"

    def __init__(self, client: Client, **solution: str) -> None:
        super().__init__(client, **solution)
        self.sid = solution.get("sid")

    def _make(self, payload: Mapping[str, Any]) -> InstanceT:
        solution = {k: v for k, v in self._solution.items() if k != self._sid_key}
        made: InstanceT = self._instance(self._client, payload, solution)
        return made

    def fetch(self) -> InstanceT:
        """GET the record."""
        return self._make(self._send(FETCHING, "GET", self._url()))

    async def fetch_async(self) -> InstanceT:
        """Awaitable :meth:`fetch`."""
        return self._make(await self._send_async(FETCHING, "GET", self._url()))


class DeletableContext(ContextResource[InstanceT]):
    """A record that can also be deleted (Twilio answers 204)."""

    def delete(self) -> bool:
        """DELETE the record; True on success."""
        self._send(DELETING, "DELETE", self._url())
        return True

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        await self._send_async(DELETING, "DELETE", self._url())
        return True


class MutableContext(DeletableContext[InstanceT]):
    """A record that can also be updated with the ``_update`` parameters (POST)."""

    _update: ClassVar[tuple[Param, ...]] = ()

    def _update_form(self, values: dict[str, Any]) -> Pairs:
        """The form of an update; a resource with rules between its parameters overrides it."""
        return form_pairs(self._update, values)

    def _update_request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Pairs:
        return self._update_form(bind([p.name for p in self._update], args, kwargs, "update"))

    def update(self, *args: Any, **kwargs: Any) -> InstanceT:
        """POST the record with the given parameters; returns it as Twilio answered."""
        form = self._update_request(args, kwargs)
        return self._make(self._send(UPDATING, "POST", self._url(), [], form))

    async def update_async(self, *args: Any, **kwargs: Any) -> InstanceT:
        """Awaitable :meth:`update`."""
        form = self._update_request(args, kwargs)
        return self._make(await self._send_async(UPDATING, "POST", self._url(), [], form))


# --- lists and pages -----------------------------------------------------------------------


class ListResource(_Endpoint, Generic[InstanceT, ContextT]):
    """A collection (``client.messages``); call it with a sid for one record's context."""

    _instance: ClassVar[type[Any]]
    _context: ClassVar[type[Any] | None] = None

    def _make(self, payload: Mapping[str, Any]) -> InstanceT:
        made: InstanceT = self._instance(self._client, payload, self._solution)
        return made

    def __call__(self, sid: str) -> ContextT:
        """The record ``sid`` (its context: ``fetch``, and ``update``/``delete`` if it has them)."""
        if self._context is None:
            raise TypeError(f"{type(self).__name__}: records have no context of their own")
        context: ContextT = self._context(
            self._client, **{**self._solution, self._context._sid_key: sid}
        )
        return context

    def get(self, sid: str) -> ContextT:
        """The record ``sid`` (twilio-python's spelling of a call)."""
        return self(sid)


class CreatableList(ListResource[InstanceT, ContextT]):
    """A collection that can create records with the ``_create`` parameters (POST)."""

    _create: ClassVar[tuple[Param, ...]] = ()

    def _create_request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Pairs:
        return form_pairs(
            self._create, bind([p.name for p in self._create], args, kwargs, "create")
        )

    def create(self, *args: Any, **kwargs: Any) -> InstanceT:
        """POST a new record with the given parameters; returns it as Twilio answered."""
        form = self._create_request(args, kwargs)
        return self._make(self._send(CREATING, "POST", self._url(), [], form))

    async def create_async(self, *args: Any, **kwargs: Any) -> InstanceT:
        """Awaitable :meth:`create`."""
        form = self._create_request(args, kwargs)
        return self._make(await self._send_async(CREATING, "POST", self._url(), [], form))


_PAGING_ARGS = ("page_token", "page_number", "page_size")
_READ_ARGS = ("limit", "page_size")


class ReadableList(ListResource[InstanceT, ContextT]):
    """A collection read in pages, filtered by the ``_filters`` parameters (GET)."""

    _filters: ClassVar[tuple[Param, ...]] = ()
    _key: ClassVar[str]  # the member of a page's JSON that holds the records
    _page: ClassVar[type[Page[Any]]]

    def _page_request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Pairs:
        """The query of a page: the filters in declared order, then the paging parameters."""
        names = [p.name for p in self._filters]
        values = bind([*names, *_PAGING_ARGS], args, kwargs, "page")
        query = [pair for pair in form_pairs(self._filters, values) if pair[1]]
        number = values.get("page_number")
        paging = (
            ("PageToken", values.get("page_token") or ""),
            ("Page", "" if number is None else str(integer(number, "page_number", 0) or "")),
            ("PageSize", str(read_limits(None, values.get("page_size"))[1] or "")),
        )
        return query + [pair for pair in paging if pair[1]]

    def _read_request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Pairs]:
        """The limit of a stream and the query of its first page."""
        names = [p.name for p in self._filters]
        values = bind([*names, *_READ_ARGS], args, kwargs, "stream")
        limit, size = read_limits(values.pop("limit", None), values.pop("page_size", None))
        return limit, self._page_request((), {**values, "page_size": size})

    def page(self, *args: Any, **kwargs: Any) -> Page[InstanceT]:
        """Fetch one page (the filters, ``page_token``, ``page_number``, ``page_size``).

        Returns:
            The page: iterate it, ``next_page()`` / ``previous_page()`` to move.
        """
        query = self._page_request(args, kwargs)
        return self._page(self, self._send(PAGING, "GET", self._url(), query))

    async def page_async(self, *args: Any, **kwargs: Any) -> Page[InstanceT]:
        """Awaitable :meth:`page`."""
        query = self._page_request(args, kwargs)
        return self._page(self, await self._send_async(PAGING, "GET", self._url(), query))

    def get_page(self, target_url: str) -> Page[InstanceT]:
        """Fetch the page at ``target_url`` (a ``next_page_url`` or ``previous_page_url``).

        Raises:
            ValueError: ``target_url`` is not on one of the client's domains (the
                credentials go nowhere else).
        """
        url = page_url(self._client._urls, target_url)
        return self._page(self, self._send(PAGING, "GET", url))

    async def get_page_async(self, target_url: str) -> Page[InstanceT]:
        """Awaitable :meth:`get_page`."""
        url = page_url(self._client._urls, target_url)
        return self._page(self, await self._send_async(PAGING, "GET", url))

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[InstanceT]:
        """Yield records lazily, one page request at a time (the filters, ``limit``, ``page_size``).

        ``limit`` None or 0 reads everything; ``page_size`` None or 0 reads pages of
        ``min(limit, 1000)``, or Twilio's default of 50 without a limit (twilio-python's
        ``read_limits``).
        """
        limit, query = self._read_request(args, kwargs)
        page: Page[InstanceT] | None = self._page(
            self, self._send(PAGING, "GET", self._url(), query)
        )
        count = 0
        while page is not None:
            for record in page:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            page = page.next_page()

    async def stream_async(self, *args: Any, **kwargs: Any) -> AsyncIterator[InstanceT]:
        """Awaitable :meth:`stream` (an async iterator)."""
        limit, query = self._read_request(args, kwargs)
        payload = await self._send_async(PAGING, "GET", self._url(), query)
        page: Page[InstanceT] | None = self._page(self, payload)
        count = 0
        while page is not None:
            for record in page:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            page = await page.next_page_async()

    def list(self, *args: Any, **kwargs: Any) -> builtins.list[InstanceT]:
        """List records eagerly; arguments as for :meth:`stream`."""
        return builtins.list(self.stream(*args, **kwargs))

    async def list_async(self, *args: Any, **kwargs: Any) -> builtins.list[InstanceT]:
        """Awaitable :meth:`list`."""
        return [record async for record in self.stream_async(*args, **kwargs)]


class Page(Generic[InstanceT]):
    """One page of a list, as twilio-python's ``Page``.

    Usage::

        page = client.messages.page(page_size=20)
        for message in page:
            print(message.sid)
        page = page.next_page()  # None after the last page

    As in twilio-python a page is an iterator over its records: they can be iterated once.
    ``next_page_url`` / ``previous_page_url`` are absolute URLs (None at the ends), for
    ``get_page(url)``; API 2010-04-01 gives them as ``next_page_uri`` paths, the other
    domains as ``meta.next_page_url``. Like any iterator, a page is consumed by one thread or
    task at a time.
    """

    def __init__(self, resource: ReadableList[InstanceT, Any], payload: Mapping[str, Any]) -> None:
        self._resource = resource
        self._payload = payload
        self._meta: Mapping[str, Any] = payload.get("meta") or {}
        key = self._meta.get("key") or resource._key
        self._records = iter(payload.get(key) or ())

    def get_instance(self, payload: Mapping[str, Any]) -> InstanceT:
        """The resource object of one record."""
        return self._resource._make(payload)

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> InstanceT:
        return self.get_instance(next(self._records))

    def _url(self, which: str) -> str | None:
        url = self._meta.get(f"{which}_page_url")
        if url and isinstance(url, str):
            return url
        uri = self._payload.get(f"{which}_page_uri")
        if not uri or not isinstance(uri, str):
            return None
        base = self._resource._client._urls[self._resource._domain]
        return f"{base}/{uri.strip('/')}"

    @property
    def next_page_url(self) -> str | None:
        """The absolute URL of the next page, or None on the last page."""
        return self._url("next")

    @property
    def previous_page_url(self) -> str | None:
        """The absolute URL of the previous page, or None on the first page."""
        return self._url("previous")

    def next_page(self) -> Self | None:
        """Fetch the page after this one; None if this is the last."""
        url = self.next_page_url
        return None if url is None else self._fetch(url)

    async def next_page_async(self) -> Self | None:
        """Awaitable :meth:`next_page`."""
        url = self.next_page_url
        return None if url is None else await self._fetch_async(url)

    def previous_page(self) -> Self | None:
        """Fetch the page before this one; None if this is the first."""
        url = self.previous_page_url
        return None if url is None else self._fetch(url)

    async def previous_page_async(self) -> Self | None:
        """Awaitable :meth:`previous_page`."""
        url = self.previous_page_url
        return None if url is None else await self._fetch_async(url)

    def _fetch(self, url: str) -> Self:
        resource = self._resource
        url = page_url(resource._client._urls, url)
        return type(self)(resource, resource._send(PAGING, "GET", url))

    async def _fetch_async(self, url: str) -> Self:
        resource = self._resource
        url = page_url(resource._client._urls, url)
        return type(self)(resource, await resource._send_async(PAGING, "GET", url))

    def __repr__(self) -> str:
        return f"<twiliocore.{type(self).__name__}>"


ReadableList._page = Page
