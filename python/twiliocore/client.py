"""A twilio-python compatible client on the C++ engine.

twilio-python users switch by changing the import::

    from twiliocore import Client

    client = Client("ACxxxxxxxx...", "your_auth_token")
    message = client.messages.create(to="+14155552671", from_="+15005550006", body="Hi")
    print(message.sid, message.status)

Every call has an awaitable twin with the ``_async`` suffix (``create_async``,
``fetch_async``, ``list_async``, ``page_async``, ``update_async``, ``delete_async``, a page's
``next_page_async``); both sit on the same
libcurl engine (one background thread, keep-alive connections, HTTP/2 where offered).
Completions resolve asyncio futures through ``loop.call_soon_threadsafe``; no thread per
request.
"""

from __future__ import annotations

import builtins
import os

from twiliocore import _core
from twiliocore.bulk import BulkJob, start_bulk_job
from twiliocore.errors import ConfigurationError, TwilioRestError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping
    from typing import Any, Self

    from twiliocore._types import BulkResult, Recipients

__all__ = [
    "AccountInstance",
    "Client",
    "FeedbackInstance",
    "MediaInstance",
    "MediaPage",
    "MessageInstance",
    "MessagePage",
    "Page",
]

DEFAULT_BASE_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"

# Create parameters of POST /Messages.json (twilio_api_v2010.json), snake_case -> PascalCase,
# beyond the ones create() names explicitly.
_CREATE_PARAMS: dict[str, str] = {
    "application_sid": "ApplicationSid",
    "max_price": "MaxPrice",
    "provide_feedback": "ProvideFeedback",
    "attempt": "Attempt",
    "force_delivery": "ForceDelivery",
    "content_retention": "ContentRetention",
    "address_retention": "AddressRetention",
    "smart_encoded": "SmartEncoded",
    "persistent_action": "PersistentAction",
    "traffic_type": "TrafficType",
    "shorten_urls": "ShortenUrls",
    "schedule_type": "ScheduleType",
    "send_at": "SendAt",
    "send_as_mms": "SendAsMms",
    "content_variables": "ContentVariables",
    "risk_check": "RiskCheck",
    "fallback_from": "FallbackFrom",
    "content_sid": "ContentSid",
}
# Those of them that are integers: an int or a str of digits, as twilio-python sends them.
_INTEGER_PARAMS = frozenset({"attempt"})
MAX_VALIDITY_PERIOD = 36000  # seconds (Twilio's ValidityPeriod: 1..36000)


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


def _date_param(value: _dt.date | str | None, name: str) -> str:
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


def _rfc2822(value: Any) -> _dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    import email.utils  # on first use: most programs never parse a date

    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


class _Failure:
    """Words a :class:`TwilioRestError` raised inside the block as twilio-python does.

    ``msg`` becomes what failed then Twilio's message (``"Unable to create record: ..."``),
    or only what failed when the answer carried no message; ``uri`` becomes the path relative
    to the API version (``/Accounts/AC.../Messages.json``). The full URL stays in ``url``.
    """

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if isinstance(exc, TwilioRestError):
            exc.msg = f"{self._what}: {exc.msg}" if exc.msg else self._what
            path = exc.url.split("?", 1)[0].split("#", 1)[0]
            at = path.find(f"/{API_VERSION}/")
            exc.uri = path[at + len(API_VERSION) + 1 :] if at >= 0 else path
            exc.args = (exc.status, exc.uri, exc.msg, exc.code, exc.method, exc.details)


_CREATING = _Failure("Unable to create record")
_FETCHING = _Failure("Unable to fetch record")
_UPDATING = _Failure("Unable to update record")
_DELETING = _Failure("Unable to delete record")
_PAGING = _Failure("Unable to fetch page")


def _integer(value: int | str, name: str, low: int, high: int | None = None) -> int:
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


def _read_limits(limit: int | None, page_size: int | str | None) -> tuple[int | None, int]:
    """``limit`` (None: all) and the ``PageSize`` to ask for (0: Twilio's default of 50).

    As twilio-python's ``read_limits``, 0 means unset for both, and a limit without a page
    size reads in pages of ``min(limit, 1000)``.
    """
    if limit is not None:
        limit = _integer(limit, "limit", 0) or None
    size = 0 if page_size is None else _integer(page_size, "page_size", 0, 1000)
    return limit, size or (min(limit, 1000) if limit else 0)


def _pairs(*pairs: tuple[str, str | int | None]) -> builtins.list[tuple[str, str]]:
    """The query pairs that have a value (``None``, ``""`` and 0 are left out)."""
    return [(name, str(value)) for name, value in pairs if value]


def _stream(page: Page | None, limit: int | None) -> Iterator[Any]:
    """The records of ``page`` and of the pages after it, at most ``limit`` (None: all).

    The next page is requested only when this one is used up and the limit is not reached.
    """
    count = 0
    while page is not None:
        for record in page:
            yield record
            count += 1
            if limit is not None and count >= limit:
                return
        page = page.next_page()


async def _stream_async(page: Page | None, limit: int | None) -> AsyncIterator[Any]:
    """Awaitable :func:`_stream`."""
    count = 0
    while page is not None:
        for record in page:
            yield record
            count += 1
            if limit is not None and count >= limit:
                return
        page = await page.next_page_async()


class Page:
    """One page of a list, as twilio-python's ``Page``.

    Usage::

        page = client.messages.page(page_size=20)
        for message in page:
            print(message.sid)
        page = page.next_page()  # None after the last page

    As in twilio-python a page is an iterator over its records: they can be iterated once.
    ``next_page_url`` / ``previous_page_url`` are absolute URLs (None at the ends), for
    ``get_page(url)``. Like any iterator, a page is consumed by one thread or task at a time.
    """

    _key = ""  # the member of the list JSON that holds the records

    def __init__(self, client: Client, payload: Mapping[str, Any]) -> None:
        self._client = client
        self._payload = payload
        self._records = iter(payload.get(self._key) or ())

    def get_instance(self, payload: Mapping[str, Any]) -> Any:
        """The resource object of one record."""
        raise NotImplementedError

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        return self.get_instance(next(self._records))

    def _url(self, member: str) -> str | None:
        uri = self._payload.get(member)
        if not uri or not isinstance(uri, str):
            return None
        return f"{self._client.base_url}/{uri.strip('/')}"

    @property
    def next_page_url(self) -> str | None:
        """The absolute URL of the next page, or None on the last page."""
        return self._url("next_page_uri")

    @property
    def previous_page_url(self) -> str | None:
        """The absolute URL of the previous page, or None on the first page."""
        return self._url("previous_page_uri")

    @classmethod
    def _first(cls, client: Client, path: str, query: builtins.list[tuple[str, str]]) -> Self:
        with _PAGING:
            return cls(client, client._core.request("GET", path, query))

    @classmethod
    async def _first_async(
        cls, client: Client, path: str, query: builtins.list[tuple[str, str]]
    ) -> Self:
        with _PAGING:
            return cls(client, await client._core.request_async("GET", path, query))

    @classmethod
    def _fetch(cls, client: Client, url: str) -> Self:
        with _PAGING:
            return cls(client, client._core.fetch_page(url))

    @classmethod
    async def _fetch_async(cls, client: Client, url: str) -> Self:
        with _PAGING:
            return cls(client, await client._core.fetch_page_async(url))

    def next_page(self) -> Self | None:
        """Fetch the page after this one; None if this is the last."""
        url = self.next_page_url
        return None if url is None else self._fetch(self._client, url)

    async def next_page_async(self) -> Self | None:
        """Awaitable :meth:`next_page`."""
        url = self.next_page_url
        return None if url is None else await self._fetch_async(self._client, url)

    def previous_page(self) -> Self | None:
        """Fetch the page before this one; None if this is the first."""
        url = self.previous_page_url
        return None if url is None else self._fetch(self._client, url)

    async def previous_page_async(self) -> Self | None:
        """Awaitable :meth:`previous_page`."""
        url = self.previous_page_url
        return None if url is None else await self._fetch_async(self._client, url)

    def __repr__(self) -> str:
        return f"<twiliocore.{type(self).__name__}>"


class _Resource:
    """A resource as Twilio sent it: ``to_dict()`` gives its JSON fields back.

    ``uri`` and ``date_created``/``date_updated`` (aware datetimes), which every resource
    has, are attributes.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self._properties: dict[str, Any] = dict(payload)
        self.uri: str | None = payload.get("uri")
        self.date_created: _dt.datetime | None = _rfc2822(payload.get("date_created"))
        self.date_updated: _dt.datetime | None = _rfc2822(payload.get("date_updated"))

    def to_dict(self) -> dict[str, Any]:
        """The resource's JSON fields as Twilio sent them."""
        return dict(self._properties)


class MessageInstance(_Resource):
    """A Message resource, with twilio-python's attribute names.

    Attributes mirror the JSON fields (``sid``, ``status``, ``to``, ``from_``, ``body``,
    ``num_segments``, ``num_media``, ``direction``, ``error_code``, ``error_message``,
    ``date_created``/``date_sent``/``date_updated`` as aware datetimes, ``price``,
    ``price_unit``, ``uri``, ``account_sid``, ``messaging_service_sid``, ``api_version``,
    ``subresource_uris``). As in twilio-python, ``num_segments``, ``num_media`` and
    ``price`` stay strings.
    """

    def __init__(self, client: Client, payload: Mapping[str, Any]) -> None:
        super().__init__(payload)
        self._client = client
        self.sid: str | None = payload.get("sid")
        self.account_sid: str | None = payload.get("account_sid")
        self.api_version: str | None = payload.get("api_version")
        self.body: str | None = payload.get("body")
        self.direction: str | None = payload.get("direction")
        self.error_code: int | None = _int_or_none(payload.get("error_code"))
        self.error_message: str | None = payload.get("error_message")
        self.from_: str | None = payload.get("from")
        self.to: str | None = payload.get("to")
        self.messaging_service_sid: str | None = payload.get("messaging_service_sid")
        self.num_media: str | None = payload.get("num_media")
        self.num_segments: str | None = payload.get("num_segments")
        self.price: str | None = payload.get("price")
        self.price_unit: str | None = payload.get("price_unit")
        self.status: str | None = payload.get("status")
        self.subresource_uris: dict[str, str] | None = payload.get("subresource_uris")
        self.date_sent: _dt.datetime | None = _rfc2822(payload.get("date_sent"))

    def fetch(self) -> MessageInstance:
        """Fetch the current state of this message."""
        return self._context().fetch()

    async def fetch_async(self) -> MessageInstance:
        """Awaitable :meth:`fetch`."""
        return await self._context().fetch_async()

    def update(self, **kwargs: Any) -> MessageInstance:
        """Update this message (``body=""`` redacts, ``status="canceled"`` cancels)."""
        return self._context().update(**kwargs)

    async def update_async(self, **kwargs: Any) -> MessageInstance:
        """Awaitable :meth:`update`."""
        return await self._context().update_async(**kwargs)

    def delete(self) -> bool:
        """Delete this message; True on success."""
        return self._context().delete()

    @property
    def media(self) -> MediaList:
        """The message's Media subresource: ``list``, ``stream``, ``page``; call with a sid."""
        return self._context().media

    @property
    def feedback(self) -> FeedbackList:
        """The message's Feedback subresource: ``create(outcome=...)``."""
        return self._context().feedback

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        return await self._context().delete_async()

    def _context(self) -> MessageContext:
        if not self.sid:
            raise ValueError("sid: this message has no sid")
        return MessageContext(self._client, self.sid)

    def __repr__(self) -> str:
        return f"<twiliocore.MessageInstance sid={self.sid} status={self.status}>"


class AccountInstance(_Resource):
    """An Account resource (``sid``, ``friendly_name``, ``status``, ``type``, dates, ...).

    The account's auth token, which Twilio includes in the JSON, is dropped and never kept.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__({k: v for k, v in payload.items() if k != "auth_token"})
        self.sid: str | None = payload.get("sid")
        self.friendly_name: str | None = payload.get("friendly_name")
        self.status: str | None = payload.get("status")
        self.type: str | None = payload.get("type")
        self.owner_account_sid: str | None = payload.get("owner_account_sid")
        self.subresource_uris: dict[str, str] | None = payload.get("subresource_uris")

    def __repr__(self) -> str:
        return f"<twiliocore.AccountInstance sid={self.sid} status={self.status}>"


class MessageContext:
    """One message by sid: ``client.messages(sid).fetch() / .update() / .delete()``."""

    def __init__(self, client: Client, sid: str) -> None:
        if not isinstance(sid, str) or not sid:
            raise ValueError("sid: must be a non-empty str")
        self._client = client
        self.sid = sid

    def fetch(self) -> MessageInstance:
        """GET the message."""
        with _FETCHING:
            return MessageInstance(self._client, self._client._core.fetch_message(self.sid))

    async def fetch_async(self) -> MessageInstance:
        """Awaitable :meth:`fetch`."""
        with _FETCHING:
            payload = await self._client._core.fetch_message_async(self.sid)
        return MessageInstance(self._client, payload)

    @staticmethod
    def _update_params(body: str | None, status: str | None) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if body is not None:
            params.append(("Body", body))
        if status is not None:
            if status != "canceled":
                raise ValueError(f"status: only 'canceled' can be set, got {status!r}")
            params.append(("Status", status))
        if not params:
            raise ValueError("update: give body='' (redact) or status='canceled'")
        return params

    def update(self, body: str | None = None, status: str | None = None) -> MessageInstance:
        """POST the message: ``body=""`` redacts it, ``status="canceled"`` cancels it."""
        params = self._update_params(body, status)
        with _UPDATING:
            payload = self._client._core.update_message(self.sid, params)
        return MessageInstance(self._client, payload)

    async def update_async(
        self, body: str | None = None, status: str | None = None
    ) -> MessageInstance:
        """Awaitable :meth:`update`."""
        params = self._update_params(body, status)
        with _UPDATING:
            payload = await self._client._core.update_message_async(self.sid, params)
        return MessageInstance(self._client, payload)

    @property
    def media(self) -> MediaList:
        """The message's Media subresource: ``list``, ``stream``, ``page``; call with a sid."""
        return MediaList(self._client, self.sid)

    @property
    def feedback(self) -> FeedbackList:
        """The message's Feedback subresource: ``create(outcome=...)``."""
        return FeedbackList(self._client, self.sid)

    def delete(self) -> bool:
        """DELETE the message (Twilio answers 204); True on success."""
        with _DELETING:
            self._client._core.delete_message(self.sid)
        return True

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        with _DELETING:
            await self._client._core.delete_message_async(self.sid)
        return True


class MessageList:
    """``client.messages``: create, list, stream and page messages; call with a sid for one."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __call__(self, sid: str) -> MessageContext:
        """The message ``sid``."""
        return MessageContext(self._client, sid)

    def get(self, sid: str) -> MessageContext:
        """The message ``sid`` (twilio-python's spelling)."""
        return MessageContext(self._client, sid)

    @staticmethod
    def _create_args(
        to: str,
        from_: str | None,
        body: str | None,
        media_url: str | list[str] | None,
        status_callback: str | None,
        messaging_service_sid: str | None,
        validity_period: int | str | None,
        kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        if not isinstance(to, str) or not to:
            raise ValueError("to: is required")
        extra: list[tuple[str, str]] = []
        for name, value in kwargs.items():
            twilio_name = _CREATE_PARAMS.get(name)
            if twilio_name is None:
                raise TypeError(f"create() got an unexpected keyword argument {name!r}")
            if name in _INTEGER_PARAMS and value is not None:
                value = _integer(value, name, 0)
            extra.extend((twilio_name, item) for item in serialize(value))
        media = [media_url] if isinstance(media_url, str) else list(media_url or [])
        if validity_period is not None:
            validity_period = _integer(validity_period, "validity_period", 1, MAX_VALIDITY_PERIOD)
        return {
            "to": to,
            "from_": from_ or "",
            "body": body or "",
            "media_urls": [str(m) for m in media],
            "status_callback": status_callback or "",
            "messaging_service_sid": messaging_service_sid or "",
            "validity_period": validity_period,
            "extra": extra,
        }

    def create(
        self,
        to: str,
        from_: str | None = None,
        body: str | None = None,
        media_url: str | list[str] | None = None,
        status_callback: str | None = None,
        messaging_service_sid: str | None = None,
        validity_period: int | str | None = None,
        **kwargs: Any,
    ) -> MessageInstance:
        """Send a message (POST Messages.json).

        Args:
            to: recipient, E.164 or ``whatsapp:+E164``.
            from_: sender; may be omitted with ``messaging_service_sid``.
            body: text, up to 1,600 characters.
            media_url: one URL or a list (at most 10).
            status_callback: URL Twilio posts status changes to.
            messaging_service_sid: ``MG...`` Messaging Service.
            validity_period: seconds the message may wait in Twilio's queue (1..36000), an
                int or a str of digits (``"600"``) as twilio-python takes it.
            **kwargs: any other create parameter in snake_case (``content_sid``,
                ``send_at``, ``schedule_type``, ``smart_encoded``, ...), serialised as
                twilio-python does.

        Returns:
            The created message.

        Raises:
            ValueError: a required field is missing or out of range, or an integer
                parameter is a str that is not a whole number (the message names it).
            TypeError: an integer parameter is neither an int nor a str, or an unknown
                keyword.
            TwilioRestError: Twilio rejected the request.
            TransportError: the request failed below HTTP.
        """
        args = self._create_args(
            to,
            from_,
            body,
            media_url,
            status_callback,
            messaging_service_sid,
            validity_period,
            kwargs,
        )
        with _CREATING:
            return MessageInstance(self._client, self._client._core.create_message(**args))

    async def create_async(
        self,
        to: str,
        from_: str | None = None,
        body: str | None = None,
        media_url: str | list[str] | None = None,
        status_callback: str | None = None,
        messaging_service_sid: str | None = None,
        validity_period: int | str | None = None,
        **kwargs: Any,
    ) -> MessageInstance:
        """Awaitable :meth:`create`; cancelling the task cancels the request."""
        args = self._create_args(
            to,
            from_,
            body,
            media_url,
            status_callback,
            messaging_service_sid,
            validity_period,
            kwargs,
        )
        with _CREATING:
            payload = await self._client._core.create_message_async(**args)
        return MessageInstance(self._client, payload)

    def _query(
        self,
        to: str | None,
        from_: str | None,
        date_sent: _dt.date | str | None,
        date_sent_before: _dt.date | str | None,
        date_sent_after: _dt.date | str | None,
        page_token: str | None,
        page_number: int | str | None,
        page_size: int | str | None,
    ) -> tuple[str, builtins.list[tuple[str, str]]]:
        """The path and query of a page of messages (the pairs in twilio-python's order)."""
        path = f"/{API_VERSION}/Accounts/{self._client.account_sid}/Messages.json"
        return path, _pairs(
            ("To", to),
            ("From", from_),
            ("DateSent", _date_param(date_sent, "date_sent")),
            ("DateSent<", _date_param(date_sent_before, "date_sent_before")),
            ("DateSent>", _date_param(date_sent_after, "date_sent_after")),
            ("PageToken", page_token),
            ("Page", None if page_number is None else _integer(page_number, "page_number", 0)),
            ("PageSize", _read_limits(None, page_size)[1]),
        )

    def page(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        page_token: str | None = None,
        page_number: int | str | None = None,
        page_size: int | str | None = None,
    ) -> MessagePage:
        """Fetch one page of messages (GET Messages.json), as twilio-python's ``page()``.

        Args:
            to: only messages to this address.
            from_: only messages from this address.
            date_sent: only messages sent that day (date or ``YYYY-MM-DD``).
            date_sent_before: only messages sent before that day.
            date_sent_after: only messages sent after that day.
            page_token: ``PageToken`` from a page URL Twilio gave.
            page_number: ``Page``, the page's number (Twilio uses it with the token).
            page_size: messages per page (1..1000; None or 0: Twilio's default, 50).

        Returns:
            The page: iterate it, ``next_page()`` / ``previous_page()`` to move.
        """
        path, query = self._query(
            to,
            from_,
            date_sent,
            date_sent_before,
            date_sent_after,
            page_token,
            page_number,
            page_size,
        )
        return MessagePage._first(self._client, path, query)

    async def page_async(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        page_token: str | None = None,
        page_number: int | str | None = None,
        page_size: int | str | None = None,
    ) -> MessagePage:
        """Awaitable :meth:`page`."""
        path, query = self._query(
            to,
            from_,
            date_sent,
            date_sent_before,
            date_sent_after,
            page_token,
            page_number,
            page_size,
        )
        return await MessagePage._first_async(self._client, path, query)

    def get_page(self, target_url: str) -> MessagePage:
        """Fetch the page at ``target_url`` (a ``next_page_url`` or ``previous_page_url``).

        Raises:
            ValueError: ``target_url`` is not on the client's base URL (the credentials
                go nowhere else).
        """
        return MessagePage._fetch(self._client, _page_url(self._client, target_url))

    async def get_page_async(self, target_url: str) -> MessagePage:
        """Awaitable :meth:`get_page`."""
        return await MessagePage._fetch_async(self._client, _page_url(self._client, target_url))

    def stream(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> Iterator[MessageInstance]:
        """Yield messages lazily, one page request at a time (follows ``next_page_uri``).

        Args:
            to: only messages to this address.
            from_: only messages from this address.
            date_sent: only messages sent that day (date or ``YYYY-MM-DD``).
            date_sent_before: only messages sent before that day.
            date_sent_after: only messages sent after that day.
            limit: stop after this many messages (None or 0: all, as in twilio-python).
            page_size: messages per request (1..1000; None or 0: min(limit, 1000), or
                Twilio's default of 50 without a limit).

        Yields:
            Each message, newest first as Twilio lists them.
        """
        limit, size = _read_limits(limit, page_size)
        first = self.page(to, from_, date_sent, date_sent_before, date_sent_after, page_size=size)
        yield from _stream(first, limit)

    def list(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> list[MessageInstance]:
        """List messages eagerly; arguments as for :meth:`stream` (``limit=0``: all)."""
        return list(
            self.stream(to, from_, date_sent, date_sent_before, date_sent_after, limit, page_size)
        )

    async def stream_async(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> AsyncIterator[MessageInstance]:
        """Awaitable :meth:`stream` (an async iterator)."""
        limit, size = _read_limits(limit, page_size)
        first = await self.page_async(
            to, from_, date_sent, date_sent_before, date_sent_after, page_size=size
        )
        async for message in _stream_async(first, limit):
            yield message

    async def list_async(
        self,
        to: str | None = None,
        from_: str | None = None,
        date_sent: _dt.date | str | None = None,
        date_sent_before: _dt.date | str | None = None,
        date_sent_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> builtins.list[MessageInstance]:
        """Awaitable :meth:`list`."""
        return [
            message
            async for message in self.stream_async(
                to, from_, date_sent, date_sent_before, date_sent_after, limit, page_size
            )
        ]


class MessagePage(Page):
    """A page of messages (twilio-python's ``MessagePage``); iterating yields MessageInstance."""

    _key = "messages"

    def get_instance(self, payload: Mapping[str, Any]) -> MessageInstance:
        """The message of one record."""
        return MessageInstance(self._client, payload)

    def __next__(self) -> MessageInstance:
        return self.get_instance(next(self._records))


def _page_url(client: Client, target_url: str) -> str:
    """``target_url`` checked to be a URL on the client's base URL."""
    if not isinstance(target_url, str) or not target_url.startswith(client.base_url + "/"):
        raise ValueError(
            f"target_url: must be a page URL on the client's base URL {client.base_url},"
            f" got {target_url!r}"
        )
    return target_url


class MediaInstance(_Resource):
    """A Media resource of a message (``sid``, ``parent_sid``, ``content_type``, ...).

    Attributes mirror the JSON fields, with ``date_created``/``date_updated`` as aware
    datetimes, as in twilio-python.
    """

    def __init__(self, client: Client, payload: Mapping[str, Any]) -> None:
        super().__init__(payload)
        self._client = client
        self.sid: str | None = payload.get("sid")
        self.account_sid: str | None = payload.get("account_sid")
        self.parent_sid: str | None = payload.get("parent_sid")
        self.content_type: str | None = payload.get("content_type")

    def _context(self) -> MediaContext:
        if not self.sid or not self.parent_sid:
            raise ValueError("sid: this media item has no sid or parent_sid")
        return MediaContext(self._client, self.parent_sid, self.sid)

    def fetch(self) -> MediaInstance:
        """Fetch this media item again."""
        return self._context().fetch()

    async def fetch_async(self) -> MediaInstance:
        """Awaitable :meth:`fetch`."""
        return await self._context().fetch_async()

    def delete(self) -> bool:
        """Delete this media item; True on success."""
        return self._context().delete()

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        return await self._context().delete_async()

    def __repr__(self) -> str:
        return f"<twiliocore.MediaInstance sid={self.sid} parent_sid={self.parent_sid}>"


class MediaContext:
    """One media item: ``client.messages(sid).media(media_sid).fetch() / .delete()``."""

    def __init__(self, client: Client, message_sid: str, sid: str) -> None:
        if not isinstance(sid, str) or not sid:
            raise ValueError("sid: must be a non-empty str")
        self._client = client
        self.message_sid = message_sid
        self.sid = sid
        self._path = f"{_media_path(client, message_sid)}/{sid}.json"

    def fetch(self) -> MediaInstance:
        """GET the media item."""
        with _FETCHING:
            return MediaInstance(self._client, self._client._core.request("GET", self._path))

    async def fetch_async(self) -> MediaInstance:
        """Awaitable :meth:`fetch`."""
        with _FETCHING:
            payload = await self._client._core.request_async("GET", self._path)
        return MediaInstance(self._client, payload)

    def delete(self) -> bool:
        """DELETE the media item (Twilio answers 204); True on success."""
        with _DELETING:
            self._client._core.request("DELETE", self._path)
        return True

    async def delete_async(self) -> bool:
        """Awaitable :meth:`delete`."""
        with _DELETING:
            await self._client._core.request_async("DELETE", self._path)
        return True


class FeedbackInstance(_Resource):
    """The outcome reported for a message (``message_sid``, ``outcome``, ...).

    Attributes mirror the JSON fields, with ``date_created``/``date_updated`` as aware
    datetimes, as in twilio-python.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(payload)
        self.account_sid: str | None = payload.get("account_sid")
        self.message_sid: str | None = payload.get("message_sid")
        self.outcome: str | None = payload.get("outcome")

    def __repr__(self) -> str:
        return f"<twiliocore.FeedbackInstance {self.message_sid} outcome={self.outcome}>"


#: ``Outcome`` values of ``Feedback.json`` (the spec's ``message_feedback_enum_outcome``).
_FEEDBACK_OUTCOMES = ("confirmed", "unconfirmed")


class FeedbackList:
    """``client.messages(sid).feedback``: report whether the message reached its person.

    Twilio uses it for messages sent with ``provide_feedback=True`` (one-time codes: report
    ``confirmed`` once the code was entered) to measure delivery per route.
    """

    def __init__(self, client: Client, message_sid: str) -> None:
        self._client = client
        self.message_sid = message_sid

    def _request(self, outcome: str | None) -> tuple[str, builtins.list[tuple[str, str]]]:
        if outcome is not None and outcome not in _FEEDBACK_OUTCOMES:
            raise ValueError(f"outcome: must be one of {', '.join(_FEEDBACK_OUTCOMES)}")
        path = _message_path(self._client, self.message_sid) + "/Feedback.json"
        return path, _pairs(("Outcome", outcome))

    def create(self, outcome: str | None = None) -> FeedbackInstance:
        """POST the outcome (``confirmed`` or ``unconfirmed``; Twilio's default: confirmed)."""
        path, form = self._request(outcome)
        with _CREATING:
            return FeedbackInstance(self._client._core.request("POST", path, [], form))

    async def create_async(self, outcome: str | None = None) -> FeedbackInstance:
        """Awaitable :meth:`create`."""
        path, form = self._request(outcome)
        with _CREATING:
            payload = await self._client._core.request_async("POST", path, [], form)
        return FeedbackInstance(payload)


def _message_path(client: Client, message_sid: str) -> str:
    """The API path of a message, without ``.json`` (its subresources hang below it)."""
    return f"/{API_VERSION}/Accounts/{client.account_sid}/Messages/{message_sid}"


def _media_path(client: Client, message_sid: str) -> str:
    return _message_path(client, message_sid) + "/Media"


class MediaList:
    """``client.messages(sid).media``: list, stream and page a message's media; call with a sid."""

    def __init__(self, client: Client, message_sid: str) -> None:
        self._client = client
        self.message_sid = message_sid

    def __call__(self, sid: str) -> MediaContext:
        """The media item ``sid``."""
        return MediaContext(self._client, self.message_sid, sid)

    def get(self, sid: str) -> MediaContext:
        """The media item ``sid`` (twilio-python's spelling)."""
        return MediaContext(self._client, self.message_sid, sid)

    def _query(
        self,
        date_created: _dt.date | str | None,
        date_created_before: _dt.date | str | None,
        date_created_after: _dt.date | str | None,
        page_token: str | None,
        page_number: int | str | None,
        page_size: int | str | None,
    ) -> tuple[str, builtins.list[tuple[str, str]]]:
        """The path and query of a page of media (the pairs in twilio-python's order)."""
        return _media_path(self._client, self.message_sid) + ".json", _pairs(
            ("DateCreated", _date_param(date_created, "date_created")),
            ("DateCreated<", _date_param(date_created_before, "date_created_before")),
            ("DateCreated>", _date_param(date_created_after, "date_created_after")),
            ("PageToken", page_token),
            ("Page", None if page_number is None else _integer(page_number, "page_number", 0)),
            ("PageSize", _read_limits(None, page_size)[1]),
        )

    def page(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        page_token: str | None = None,
        page_number: int | str | None = None,
        page_size: int | str | None = None,
    ) -> MediaPage:
        """Fetch one page of the message's media, as twilio-python's ``page()``.

        Args:
            date_created: only media created that day (date or ``YYYY-MM-DD``).
            date_created_before: only media created on or before that day.
            date_created_after: only media created on or after that day.
            page_token: ``PageToken`` from a page URL Twilio gave.
            page_number: ``Page``, the page's number (Twilio uses it with the token).
            page_size: items per page (1..1000; None or 0: Twilio's default, 50).

        Returns:
            The page: iterate it, ``next_page()`` / ``previous_page()`` to move.
        """
        path, query = self._query(
            date_created,
            date_created_before,
            date_created_after,
            page_token,
            page_number,
            page_size,
        )
        return MediaPage._first(self._client, path, query)

    async def page_async(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        page_token: str | None = None,
        page_number: int | str | None = None,
        page_size: int | str | None = None,
    ) -> MediaPage:
        """Awaitable :meth:`page`."""
        path, query = self._query(
            date_created,
            date_created_before,
            date_created_after,
            page_token,
            page_number,
            page_size,
        )
        return await MediaPage._first_async(self._client, path, query)

    def get_page(self, target_url: str) -> MediaPage:
        """Fetch the page at ``target_url`` (a ``next_page_url`` or ``previous_page_url``).

        Raises:
            ValueError: ``target_url`` is not on the client's base URL.
        """
        return MediaPage._fetch(self._client, _page_url(self._client, target_url))

    async def get_page_async(self, target_url: str) -> MediaPage:
        """Awaitable :meth:`get_page`."""
        return await MediaPage._fetch_async(self._client, _page_url(self._client, target_url))

    def stream(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> Iterator[MediaInstance]:
        """Yield the message's media lazily, one page request at a time.

        Args:
            date_created: only media created that day (date or ``YYYY-MM-DD``).
            date_created_before: only media created on or before that day.
            date_created_after: only media created on or after that day.
            limit: stop after this many items (None or 0: all, as in twilio-python).
            page_size: items per request (1..1000; None or 0: min(limit, 1000), or
                Twilio's default of 50 without a limit).

        Yields:
            Each media item.
        """
        limit, size = _read_limits(limit, page_size)
        first = self.page(date_created, date_created_before, date_created_after, page_size=size)
        yield from _stream(first, limit)

    def list(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> builtins.list[MediaInstance]:
        """List the message's media eagerly; arguments as for :meth:`stream`."""
        return list(
            self.stream(date_created, date_created_before, date_created_after, limit, page_size)
        )

    async def stream_async(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> AsyncIterator[MediaInstance]:
        """Awaitable :meth:`stream` (an async iterator)."""
        limit, size = _read_limits(limit, page_size)
        first = await self.page_async(
            date_created, date_created_before, date_created_after, page_size=size
        )
        async for media in _stream_async(first, limit):
            yield media

    async def list_async(
        self,
        date_created: _dt.date | str | None = None,
        date_created_before: _dt.date | str | None = None,
        date_created_after: _dt.date | str | None = None,
        limit: int | None = None,
        page_size: int | str | None = None,
    ) -> builtins.list[MediaInstance]:
        """Awaitable :meth:`list`."""
        return [
            media
            async for media in self.stream_async(
                date_created, date_created_before, date_created_after, limit, page_size
            )
        ]


class MediaPage(Page):
    """A page of a message's media (twilio-python's ``MediaPage``); yields MediaInstance."""

    _key = "media_list"

    def get_instance(self, payload: Mapping[str, Any]) -> MediaInstance:
        """The media item of one record."""
        return MediaInstance(self._client, payload)

    def __next__(self) -> MediaInstance:
        return self.get_instance(next(self._records))


class AccountContext:
    """One account by sid: ``client.api.accounts(sid).fetch()``."""

    def __init__(self, client: Client, sid: str) -> None:
        if not isinstance(sid, str) or not sid:
            raise ValueError("sid: must be a non-empty str")
        self._client = client
        self.sid = sid

    def fetch(self) -> AccountInstance:
        """GET the account."""
        with _FETCHING:
            return AccountInstance(self._client._core.fetch_account(self.sid))

    async def fetch_async(self) -> AccountInstance:
        """Awaitable :meth:`fetch`."""
        with _FETCHING:
            return AccountInstance(await self._client._core.fetch_account_async(self.sid))

    @property
    def messages(self) -> MessageList:
        """The account's Messages (``client.api.account.messages``, as in twilio-python).

        Raises:
            ValueError: ``sid`` is not the client's account (a Client addresses one account;
                create one with ``account_sid=`` for another).
        """
        if self.sid != self._client.account_sid:
            raise ValueError(
                f"sid: {self.sid} is not this client's account; create a Client with"
                " account_sid= to reach its messages"
            )
        return self._client.messages


class AccountList:
    """``client.api.accounts``: call with a sid."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __call__(self, sid: str) -> AccountContext:
        """The account ``sid``."""
        return AccountContext(self._client, sid)

    def get(self, sid: str) -> AccountContext:
        """The account ``sid`` (twilio-python's spelling)."""
        return AccountContext(self._client, sid)


class Api:
    """``client.api``: the 2010-04-01 API (``accounts``, ``account``, ``messages``)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.accounts = AccountList(client)
        self.messages = client.messages

    @property
    def account(self) -> AccountContext:
        """The client's own account."""
        return AccountContext(self._client, self._client.account_sid)

    @property
    def v2010(self) -> Api:
        """The 2010-04-01 version, spelled as in twilio-python (``client.api.v2010.account``)."""
        return self


class Client:
    """Twilio's REST API with twilio-python's names, on twiliocore's C++ engine.

    Usage::

        client = Client()  # TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN
        client.messages.create(to="+14155552671", from_="+15005550006", body="Hi")

    Thread-safety: a Client can be shared between threads and between asyncio tasks; all
    calls go through one engine (one background thread).

    Args:
        username: Account SID, or an API key SID (``SK...``) with ``account_sid`` given;
            default ``TWILIO_ACCOUNT_SID``.
        password: auth token or API key secret; default ``TWILIO_AUTH_TOKEN``.
        account_sid: account addressed in paths; default ``username``.
        base_url: API root; default ``TWILIO_API_BASE_URL`` or ``https://api.twilio.com``.
        timeout: total seconds per request (0: none).
        connect_timeout: seconds to establish a connection.
        ca_bundle: PEM file of CA certificates to trust instead of the system store.
        insecure: skip TLS verification (local testing only).
        proxy: proxy URL; ``None``: the environment's (``https_proxy``, ``http_proxy``,
            ``all_proxy``, with ``no_proxy``), read when the client is created.
        engine: share an existing ``_core.Engine`` (its timeouts and TLS settings apply).

    Raises:
        ConfigurationError: credentials missing (the message names the variables).
        ValueError: a malformed account sid or base URL.
    """

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        account_sid: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        ca_bundle: str | None = None,
        insecure: bool = False,
        proxy: str | None = None,
        engine: _core.Engine | None = None,
    ) -> None:
        username = username or _env("TWILIO_ACCOUNT_SID")
        password = password or _env("TWILIO_AUTH_TOKEN")
        missing = [
            name
            for name, value in (("TWILIO_ACCOUNT_SID", username), ("TWILIO_AUTH_TOKEN", password))
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "missing Twilio credentials: set "
                + " and ".join(missing)
                + " or pass username/password to Client()"
            )
        assert username is not None and password is not None
        self.username = username
        self.account_sid = account_sid or username
        self.base_url = (base_url or _env("TWILIO_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._owns_engine = engine is None
        if engine is None:
            engine = _core.Engine(
                connect_timeout=connect_timeout,
                timeout=timeout,
                ca_bundle=ca_bundle or "",
                insecure=insecure,
                proxy=proxy or "",
            )
        self.engine = engine
        self._core = _core.TwilioClient(
            engine,
            self.account_sid,
            password,
            self.base_url,
            username if username != self.account_sid else "",
        )

    # Built on access rather than stored: stored back-references would make every Client
    # part of a reference cycle, keeping its engine thread alive until the cyclic GC runs.
    @property
    def messages(self) -> MessageList:
        """The Messages resource: ``create``, ``list``, ``stream``, ``page``; call with a sid."""
        return MessageList(self)

    @property
    def api(self) -> Api:
        """The 2010-04-01 API: ``accounts``, ``account``, ``messages``."""
        return Api(self)

    def bulk_send(
        self,
        recipients: Recipients,
        body: str | None = None,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        media_url: str | list[str] | None = None,
        status_callback: str | None = None,
        window: int = 64,
        mps: float | None = None,
        retry_policy: str = "reconcile",
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        region: str = "US",
        whatsapp: bool = False,
        smart_encoded: bool = False,
        keep_results: bool = True,
    ) -> BulkJob:
        """Send one message to many recipients (bulk fan-out in the C++ core); returns at once.

        Numbers are normalised to E.164 and deduplicated; invalid ones are reported and never
        sent. At most ``window`` requests are in flight. Sends are paced per sender in message
        segments per second so the sender's queue at Twilio never passes its 10-hour cap (or
        at ``mps`` from the start). Retries never send twice: 429s and failures before the
        request left are retried; ambiguous outcomes are reconciled (see docs/bulk.md).

        Args:
            recipients: any iterable of numbers, or of ``(number, body)`` pairs for
                per-recipient bodies; consumed lazily (a generator streams in bounded memory).
            body: the text for recipients without their own.
            from_: sender (E.164, short code or alphanumeric ID).
            messaging_service_sid: ``MG...``: Twilio picks the sender from the service.
            media_url: one URL or a list (at most 10).
            status_callback: URL for Twilio's status callbacks.
            window: most requests in flight (1..10000).
            mps: message segments per second to pace to from the start; ``None``: the
                sender's default rate (1 long code, 3 toll-free, 100 short code), applied
                once the estimated queue at Twilio nears its cap.
            retry_policy: ``"reconcile"`` (default), ``"retry"`` (may send twice) or
                ``"fail"`` (ambiguous outcomes reported as ``unknown``).
            on_result: called once per recipient with its result dict, in completion order
                (on a background thread; exceptions are reported as unraisable).
            on_progress: called at most every 0.25 s with the counters, and once at the end.
            region: default region for numbers written without ``+``.
            whatsapp: send over WhatsApp (``whatsapp:`` added to recipients and sender).
            smart_encoded: send ``SmartEncoded=true`` (Twilio's Smart Encoding); pacing and
                the duration estimate then count the body's segments after it.
            keep_results: keep per-recipient results for :attr:`BulkJob.results` (turn off
                for very large jobs and use ``on_result``).

        Returns:
            The running :class:`~twiliocore.bulk.BulkJob`; ``wait()`` for the summary.

        Raises:
            ValueError: an unusable argument (the message names it).
            TypeError: ``recipients`` is not iterable or a callback is not callable.
        """
        return start_bulk_job(
            self._core,
            recipients,
            body,
            from_=from_,
            messaging_service_sid=messaging_service_sid,
            media_url=media_url,
            status_callback=status_callback,
            window=window,
            mps=mps,
            retry_policy=retry_policy,
            on_result=on_result,
            on_progress=on_progress,
            region=region,
            whatsapp=whatsapp,
            smart_encoded=smart_encoded,
            keep_results=keep_results,
        )

    def close(self) -> None:
        """Stop the client's own engine (a shared engine is left running). Idempotent."""
        if self._owns_engine:
            self.engine.shutdown()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<twiliocore.Client account_sid={self.account_sid} base_url={self.base_url}>"
