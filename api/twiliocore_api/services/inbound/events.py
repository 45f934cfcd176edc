"""The events Twilio's webhooks carry, typed: an inbound message, a status update.

:func:`parse_inbound` and :func:`parse_status` read a webhook's (already signature-checked)
form parameters; what no database column could hold, or what Twilio never sends, is an
:class:`InvalidWebhook` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from twiliocore_api.crud import is_storable
from twiliocore_api.schemas import MAX_INT

__all__ = [
    "Channel",
    "InboundMessage",
    "InvalidWebhook",
    "StatusUpdate",
    "parse_inbound",
    "parse_status",
]

Channel = Literal["sms", "whatsapp"]
_WHATSAPP = "whatsapp:"
_MAX_MEDIA = 10  # Twilio attaches at most 10 media to a message


class InvalidWebhook(ValueError):
    """Raised when a signed webhook's parameters are not what Twilio sends (names them)."""


@dataclass(frozen=True)
class InboundMessage:
    """An SMS or WhatsApp message sent to one of our numbers (Twilio's incoming webhook).

    ``from_`` and ``to`` are numbers without the ``whatsapp:`` prefix; ``channel`` says
    which it was (``from_address``/``to_address`` put the prefix back).

    Attributes:
        message_sid: ``MessageSid`` (``SmsMessageSid`` in older webhooks), if given.
        account_sid: ``AccountSid``.
        from_: the sender (``From``).
        to: our number (``To``).
        body: ``Body``.
        channel: ``"sms"`` or ``"whatsapp"``.
        num_segments: ``NumSegments``.
        num_media: ``NumMedia``.
        media_urls: ``MediaUrl0``, ``MediaUrl1``, ...
        media_content_types: ``MediaContentType0``, ...
        profile_name: ``ProfileName`` (WhatsApp).
        wa_id: ``WaId`` (WhatsApp).
        messaging_service_sid: ``MessagingServiceSid``.
        params: every parameter as received, for handlers that need more.
    """

    message_sid: str | None
    account_sid: str
    from_: str
    to: str
    body: str
    channel: Channel
    num_segments: int | None = None
    num_media: int | None = None
    media_urls: tuple[str, ...] = ()
    media_content_types: tuple[str, ...] = ()
    profile_name: str | None = None
    wa_id: str | None = None
    messaging_service_sid: str | None = None
    params: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def from_address(self) -> str:
        """The sender as Twilio wrote it (``whatsapp:+E164`` for WhatsApp)."""
        return _WHATSAPP + self.from_ if self.channel == "whatsapp" else self.from_

    @property
    def to_address(self) -> str:
        """Our number as Twilio wrote it (``whatsapp:+E164`` for WhatsApp)."""
        return _WHATSAPP + self.to if self.channel == "whatsapp" else self.to


@dataclass(frozen=True)
class StatusUpdate:
    """A message status callback.

    Attributes:
        message_sid: ``MessageSid`` (or ``SmsSid``).
        message_status: ``MessageStatus`` (or ``SmsStatus``), lower case.
        error_code: ``ErrorCode``, if any.
        account_sid: ``AccountSid``.
        from_: ``From`` as Twilio wrote it.
        to: ``To`` as Twilio wrote it.
        channel: ``"whatsapp"`` when ``To`` is a WhatsApp address, else ``"sms"``.
        params: every parameter as received.
    """

    message_sid: str
    message_status: str
    error_code: int | None = None
    account_sid: str = ""
    from_: str = ""
    to: str = ""
    channel: Channel = "sms"
    params: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    # A number no INTEGER column holds is not one of Twilio's codes or counts.
    return number if number is not None and abs(number) <= MAX_INT else None


def _frozen(params: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(params))


def parse_status(params: Mapping[str, str]) -> StatusUpdate:
    """A status callback's parameters as a :class:`StatusUpdate`.

    Raises:
        InvalidWebhook: no ``MessageSid``/``MessageStatus``, or values Twilio never sends.
    """
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise InvalidWebhook("MessageSid and MessageStatus needed")
    if not is_storable(sid, max_length=34) or not is_storable(status, max_length=24):
        raise InvalidWebhook("MessageSid or MessageStatus is not one of Twilio's")
    to = params.get("To", "")
    return StatusUpdate(
        message_sid=sid,
        message_status=status,
        error_code=_int(params.get("ErrorCode")),
        account_sid=params.get("AccountSid", ""),
        from_=params.get("From", ""),
        to=to,
        channel="whatsapp" if to.startswith(_WHATSAPP) else "sms",
        params=_frozen(params),
    )


def parse_inbound(params: Mapping[str, str]) -> InboundMessage:
    """An incoming-message webhook's parameters as an :class:`InboundMessage`.

    Raises:
        InvalidWebhook: a ``MessageSid``, ``From`` or ``To`` no stored value can be.
    """
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or None
    if sid and not is_storable(sid, max_length=34):
        raise InvalidWebhook("MessageSid is not one of Twilio's")
    sender = params.get("From", "")
    channel: Channel = "whatsapp" if sender.startswith(_WHATSAPP) else "sms"
    number = sender.split(":", 1)[1] if channel == "whatsapp" else sender
    recipient = params.get("To", "").removeprefix(_WHATSAPP)
    if not is_storable(number, max_length=64) or not is_storable(recipient, max_length=64):
        raise InvalidWebhook("From or To is not a phone number or channel address")
    media_urls: list[str] = []
    media_types: list[str] = []
    for index in range(_MAX_MEDIA):
        url = params.get(f"MediaUrl{index}")
        if not url:
            break
        media_urls.append(url)
        media_types.append(params.get(f"MediaContentType{index}", ""))
    return InboundMessage(
        message_sid=sid,
        account_sid=params.get("AccountSid", ""),
        from_=number,
        to=recipient,
        body=params.get("Body", ""),
        channel=channel,
        num_segments=_int(params.get("NumSegments")),
        num_media=_int(params.get("NumMedia")),
        media_urls=tuple(media_urls),
        media_content_types=tuple(media_types),
        profile_name=params.get("ProfileName") or None,
        wa_id=params.get("WaId") or None,
        messaging_service_sid=params.get("MessagingServiceSid") or None,
        params=_frozen(params),
    )
