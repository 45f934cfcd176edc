"""The IncomingPhoneNumber resource: the account's phone numbers (buy, configure, release).

``client.incoming_phone_numbers`` as in twilio-python: ``list``/``stream``/``page`` with
``beta``, ``friendly_name``, ``phone_number``, ``origin``; ``create(phone_number=...)`` (or
``area_code=``) buys a number; ``(sid).fetch()``, ``(sid).update(sms_url=...)``,
``(sid).delete()`` releases it. Paths, parameters and fields follow
``twilio_api_v2010.json``: ``/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json``
and ``IncomingPhoneNumbers/{Sid}.json``.
"""

from __future__ import annotations

from twiliocore.rest.base import (
    CreatableList,
    MutableContext,
    MutableInstance,
    Page,
    ReadableList,
    choice,
    params,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "IncomingPhoneNumberContext",
    "IncomingPhoneNumberInstance",
    "IncomingPhoneNumberList",
    "IncomingPhoneNumberPage",
]

_NUMBERS = "/Accounts/{account_sid}/IncomingPhoneNumbers"
# What create and update both set (the spec's form fields, in its create order).
_SETTINGS = (
    "api_version", "friendly_name", "sms_application_sid", "sms_fallback_method",
    "sms_fallback_url", "sms_method", "sms_url", "status_callback", "status_callback_method",
    "voice_application_sid", "voice_caller_id_lookup", "voice_fallback_method",
    "voice_fallback_url", "voice_method", "voice_url", "emergency_status",
    "emergency_address_sid", "trunk_sid", "identity_sid", "address_sid", "voice_receive_mode",
    "bundle_sid",
)  # fmt: skip
# The enums of the spec (incoming_phone_number_enum_*).
_ENUMS = {
    "emergency_status": choice("Active", "Inactive"),
    "voice_receive_mode": choice("voice", "fax"),
}


class IncomingPhoneNumberInstance(MutableInstance):
    """A phone number of the account, with twilio-python's attribute names.

    ``capabilities`` is the dict Twilio sends (``sms``, ``mms``, ``voice``, ``fax``);
    ``date_created``/``date_updated`` are aware datetimes.
    """

    account_sid: str | None
    address_sid: str | None
    address_requirements: str | None
    api_version: str | None
    beta: bool | None
    capabilities: dict[str, Any] | None
    friendly_name: str | None
    identity_sid: str | None
    phone_number: str | None
    origin: str | None
    sid: str | None
    sms_application_sid: str | None
    sms_fallback_method: str | None
    sms_fallback_url: str | None
    sms_method: str | None
    sms_url: str | None
    status_callback: str | None
    status_callback_method: str | None
    trunk_sid: str | None
    voice_receive_mode: str | None
    voice_application_sid: str | None
    voice_caller_id_lookup: bool | None
    voice_fallback_method: str | None
    voice_fallback_url: str | None
    voice_method: str | None
    voice_url: str | None
    emergency_status: str | None
    emergency_address_sid: str | None
    emergency_address_status: str | None
    bundle_sid: str | None
    status: str | None
    type: str | None


class IncomingPhoneNumberContext(MutableContext[IncomingPhoneNumberInstance]):
    """One number: ``client.incoming_phone_numbers(sid).fetch() / .update() / .delete()``."""

    _path = _NUMBERS + "/{sid}.json"
    _instance = IncomingPhoneNumberInstance
    _update = params("account_sid", *_SETTINGS, **_ENUMS)


IncomingPhoneNumberInstance._context = IncomingPhoneNumberContext


class IncomingPhoneNumberPage(Page[IncomingPhoneNumberInstance]):
    """A page of the account's numbers; iterating yields IncomingPhoneNumberInstance."""


class IncomingPhoneNumberList(
    ReadableList[IncomingPhoneNumberInstance, IncomingPhoneNumberContext],
    CreatableList[IncomingPhoneNumberInstance, IncomingPhoneNumberContext],
):
    """``client.incoming_phone_numbers``: list, buy (``create``); call with a sid for one."""

    _path = _NUMBERS + ".json"
    _key = "incoming_phone_numbers"
    _instance = IncomingPhoneNumberInstance
    _context = IncomingPhoneNumberContext
    _page = IncomingPhoneNumberPage
    _filters = params("beta", "friendly_name", "phone_number", "origin")
    _create = params(*_SETTINGS, "phone_number", "area_code", **_ENUMS)
