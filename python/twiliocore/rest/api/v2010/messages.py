"""The Message resource: ``client.messages`` (create, list, fetch, update, delete).

``/2010-04-01/Accounts/{AccountSid}/Messages.json`` and ``Messages/{Sid}.json``, with the
Media and Feedback subresources (``media.py``, ``feedback.py``). ``create`` is the one typed
C++ call (single sends are measured: ``_core.TwilioClient.create_message``); everything else
goes through the generic request path of :mod:`twiliocore.rest.base`.
"""

from __future__ import annotations

from twiliocore.rest._values import integer, serialize
from twiliocore.rest.api.v2010.feedback import FeedbackList
from twiliocore.rest.api.v2010.media import MediaList
from twiliocore.rest.base import (
    CREATING,
    MutableContext,
    MutableInstance,
    Page,
    Param,
    ReadableList,
    _Failure,
    date,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    import datetime as _dt
    from typing import Any

    from twiliocore.rest.base import Pairs

__all__ = [
    "MAX_VALIDITY_PERIOD",
    "MessageContext",
    "MessageInstance",
    "MessageList",
    "MessagePage",
]

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

_MESSAGES = "/Accounts/{account_sid}/Messages"


class MessageInstance(MutableInstance):
    """A Message resource, with twilio-python's attribute names.

    Attributes mirror the JSON fields (``sid``, ``status``, ``to``, ``from_``, ``body``,
    ``num_segments``, ``num_media``, ``direction``, ``error_code``, ``error_message``,
    ``date_created``/``date_sent``/``date_updated`` as aware datetimes, ``price``,
    ``price_unit``, ``uri``, ``account_sid``, ``messaging_service_sid``, ``api_version``,
    ``subresource_uris``). As in twilio-python, ``num_segments``, ``num_media`` and
    ``price`` stay strings.
    """

    sid: str | None
    account_sid: str | None
    api_version: str | None
    body: str | None
    direction: str | None
    error_code: int | None
    error_message: str | None
    from_: str | None
    to: str | None
    messaging_service_sid: str | None
    num_media: str | None
    num_segments: str | None
    price: str | None
    price_unit: str | None
    status: str | None
    subresource_uris: dict[str, str] | None
    date_sent: _dt.datetime | None

    @property
    def media(self) -> MediaList:
        """The message's Media subresource: ``list``, ``stream``, ``page``; call with a sid."""
        context: MessageContext = self._proxy()
        return context.media

    @property
    def feedback(self) -> FeedbackList:
        """The message's Feedback subresource: ``create(outcome=...)``."""
        context: MessageContext = self._proxy()
        return context.feedback


class MessageContext(MutableContext[MessageInstance]):
    """One message by sid: ``client.messages(sid).fetch() / .update() / .delete()``.

    ``update(body="")`` redacts the message, ``update(status="canceled")`` cancels a
    scheduled one.
    """

    _path = _MESSAGES + "/{sid}.json"
    _instance = MessageInstance
    _update = (Param("body", "Body"), Param("status", "Status"))

    def _update_form(self, values: dict[str, Any]) -> Pairs:
        status = values.get("status")
        if status is not None and status != "canceled":
            raise ValueError(f"status: only 'canceled' can be set, got {status!r}")
        if values.get("body") is None and status is None:
            raise ValueError("update: give body='' (redact) or status='canceled'")
        return super()._update_form(values)

    def _sub(self) -> dict[str, str]:
        return {"account_sid": self._solution["account_sid"], "message_sid": self._solution["sid"]}

    @property
    def media(self) -> MediaList:
        """The message's Media subresource: ``list``, ``stream``, ``page``; call with a sid."""
        return MediaList(self._client, **self._sub())

    @property
    def feedback(self) -> FeedbackList:
        """The message's Feedback subresource: ``create(outcome=...)``."""
        return FeedbackList(self._client, **self._sub())


MessageInstance._context = MessageContext


class MessagePage(Page[MessageInstance]):
    """A page of messages (twilio-python's ``MessagePage``); iterating yields MessageInstance."""


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
    """The arguments of ``_core.TwilioClient.create_message`` (checked before any request)."""
    if not isinstance(to, str) or not to:
        raise ValueError("to: is required")
    extra: list[tuple[str, str]] = []
    for name, value in kwargs.items():
        twilio_name = _CREATE_PARAMS.get(name)
        if twilio_name is None:
            raise TypeError(f"create() got an unexpected keyword argument {name!r}")
        if name in _INTEGER_PARAMS and value is not None:
            value = integer(value, name, 0)
        extra.extend((twilio_name, item) for item in serialize(value))
    media = [media_url] if isinstance(media_url, str) else list(media_url or [])
    if validity_period is not None:
        validity_period = integer(validity_period, "validity_period", 1, MAX_VALIDITY_PERIOD)
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


class MessageList(ReadableList[MessageInstance, MessageContext]):
    """``client.messages``: create, list, stream and page messages; call with a sid for one.

    Filters: ``to``, ``from_``, ``date_sent``, ``date_sent_before``, ``date_sent_after``
    (dates as a date, a datetime's GMT date or ``YYYY-MM-DD``).
    """

    _path = _MESSAGES + ".json"
    _key = "messages"
    _instance = MessageInstance
    _context = MessageContext
    _page = MessagePage
    _filters = (
        Param("to", "To"),
        Param("from_", "From"),
        Param("date_sent", "DateSent", date),
        Param("date_sent_before", "DateSent<", date),
        Param("date_sent_after", "DateSent>", date),
    )

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
        """Send a message (POST Messages.json) through the typed C++ create.

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
        args = _create_args(
            to, from_, body, media_url, status_callback, messaging_service_sid,
            validity_period, kwargs,
        )  # fmt: skip
        with _Failure(CREATING, self._version):
            return self._make(self._client._core.create_message(**args))

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
        args = _create_args(
            to, from_, body, media_url, status_callback, messaging_service_sid,
            validity_period, kwargs,
        )  # fmt: skip
        with _Failure(CREATING, self._version):
            payload = await self._client._core.create_message_async(**args)
        return self._make(payload)
