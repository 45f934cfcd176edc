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

The resources live in :mod:`twiliocore.rest`, one module per resource on one shared base;
this module builds the :class:`Client` from Twilio's domains and keeps the names it always
exported (``MessageInstance``, ``MessagePage``, ``serialize``, ...) importable from here.
"""

from __future__ import annotations

import os

from twiliocore import _core
from twiliocore.errors import ConfigurationError
from twiliocore.rest._values import date_param as _date_param  # noqa: F401  # tests use it
from twiliocore.rest._values import serialize as serialize
from twiliocore.rest.domains import DOMAINS, domain_urls

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from twiliocore._types import BulkResult, Recipients
    from twiliocore.bulk import BulkJob
    from twiliocore.bulk_options import BulkOptions
    from twiliocore.rest.api import Api
    from twiliocore.rest.api.v2010.accounts import AccountContext as AccountContext
    from twiliocore.rest.api.v2010.accounts import AccountInstance as AccountInstance
    from twiliocore.rest.api.v2010.accounts import AccountList as AccountList
    from twiliocore.rest.api.v2010.available_phone_numbers import (
        AvailablePhoneNumberCountryList,
    )
    from twiliocore.rest.api.v2010.feedback import FeedbackInstance as FeedbackInstance
    from twiliocore.rest.api.v2010.feedback import FeedbackList as FeedbackList
    from twiliocore.rest.api.v2010.incoming_phone_numbers import IncomingPhoneNumberList
    from twiliocore.rest.api.v2010.media import MediaContext as MediaContext
    from twiliocore.rest.api.v2010.media import MediaInstance as MediaInstance
    from twiliocore.rest.api.v2010.media import MediaList as MediaList
    from twiliocore.rest.api.v2010.media import MediaPage as MediaPage
    from twiliocore.rest.api.v2010.messages import MessageContext as MessageContext
    from twiliocore.rest.api.v2010.messages import MessageInstance as MessageInstance
    from twiliocore.rest.api.v2010.messages import MessageList as MessageList
    from twiliocore.rest.api.v2010.messages import MessagePage as MessagePage
    from twiliocore.rest.base import Page as Page

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

DEFAULT_BASE_URL = DOMAINS["api"]
API_VERSION = "2010-04-01"
MAX_VALIDITY_PERIOD = 36000  # seconds (Twilio's ValidityPeriod: 1..36000)

# Names this module always exported, now defined in twiliocore.rest: loaded on first access
# so that ``import twiliocore`` does not load every resource.
_V2010 = "twiliocore.rest.api.v2010."
_MOVED = {
    "AccountContext": _V2010 + "accounts",
    "AccountInstance": _V2010 + "accounts",
    "AccountList": _V2010 + "accounts",
    "FeedbackInstance": _V2010 + "feedback",
    "FeedbackList": _V2010 + "feedback",
    "MediaContext": _V2010 + "media",
    "MediaInstance": _V2010 + "media",
    "MediaList": _V2010 + "media",
    "MediaPage": _V2010 + "media",
    "MessageContext": _V2010 + "messages",
    "MessageInstance": _V2010 + "messages",
    "MessageList": _V2010 + "messages",
    "MessagePage": _V2010 + "messages",
    "Page": "twiliocore.rest.base",
    "Api": "twiliocore.rest.api",
}


def __getattr__(name: str) -> object:
    """The resource classes this module always exported, from :mod:`twiliocore.rest`."""
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(__import__(module, fromlist=[name]), name)


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


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
        base_url: one root serving every Twilio domain (the api domain at the root, the
            others under ``/conversations``, ``/messaging``, ``/lookups``: the emulator's
            layout); default ``TWILIO_API_BASE_URL``, else Twilio's own host per domain.
        base_urls: base URLs of single domains (``{"conversations": "https://..."}``),
            applied over those.
        timeout: total seconds per request (0: none).
        connect_timeout: seconds to establish a connection.
        ca_bundle: PEM file of CA certificates to trust instead of the system store.
        insecure: skip TLS verification (local testing only).
        proxy: proxy URL; ``None``: the environment's (``https_proxy``, ``http_proxy``,
            ``all_proxy``, with ``no_proxy``), read when the client is created.
        engine: share an existing ``_core.Engine`` (its timeouts and TLS settings apply).

    Raises:
        ConfigurationError: credentials missing (the message names the variables).
        ValueError: a malformed account sid or base URL, or an unknown domain.
    """

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        account_sid: str | None = None,
        *,
        base_url: str | None = None,
        base_urls: Mapping[str, str] | None = None,
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
        self._urls = domain_urls(base_url or _env("TWILIO_API_BASE_URL"), base_urls)
        self.base_url = self._urls["api"]
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

    @property
    def base_urls(self) -> dict[str, str]:
        """The base URL of every Twilio domain the client reaches (a copy)."""
        return dict(self._urls)

    # Built on access rather than stored: stored back-references would make every Client
    # part of a reference cycle, keeping its engine thread alive until the cyclic GC runs.
    @property
    def messages(self) -> MessageList:
        """The Messages resource: ``create``, ``list``, ``stream``, ``page``; call with a sid."""
        from twiliocore.rest.api.v2010.messages import MessageList

        return MessageList(self, account_sid=self.account_sid)

    @property
    def api(self) -> Api:
        """The 2010-04-01 API: ``accounts``, ``account``, ``messages``, phone numbers."""
        from twiliocore.rest.api import Api

        return Api(self)

    @property
    def incoming_phone_numbers(self) -> IncomingPhoneNumberList:
        """The account's phone numbers: ``list``, ``create`` (buy); call with a sid."""
        return self.api.account.incoming_phone_numbers

    @property
    def available_phone_numbers(self) -> AvailablePhoneNumberCountryList:
        """Numbers to buy: ``client.available_phone_numbers("US").local.list(area_code=415)``."""
        return self.api.account.available_phone_numbers

    def bulk_send(
        self,
        recipients: Recipients,
        body: str | None = None,
        *,
        options: BulkOptions | None = None,
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        **settings: Any,
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
            options: the job's :class:`~twiliocore.BulkOptions` (sender, window, pacing,
                retries, ...).
            on_result: called once per recipient with its result dict, in completion order
                (on a background thread; exceptions are reported as unraisable).
            on_progress: called at most every ``progress_interval`` seconds with the
                counters, and once at the end.
            **settings: any field of :class:`~twiliocore.BulkOptions` by name (``from_``,
                ``messaging_service_sid``, ``media_url``, ``status_callback``, ``window``,
                ``mps``, ``retry_policy``, ``region``, ``whatsapp``, ``smart_encoded``,
                ``keep_results``, ...), over ``options``.

        Returns:
            The running :class:`~twiliocore.bulk.BulkJob`; ``wait()`` for the summary.

        Raises:
            ValueError: an unusable argument (the message names it).
            TypeError: ``recipients`` is not iterable, a callback is not callable, or an
                unknown setting.
        """
        from twiliocore.bulk import start_bulk_job

        return start_bulk_job(
            self._core,
            recipients,
            body,
            options=options,
            on_result=on_result,
            on_progress=on_progress,
            **settings,
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
