"""AvailablePhoneNumbers: numbers the account can buy, by country and type.

``client.available_phone_numbers.list()`` lists the countries;
``client.available_phone_numbers("US").fetch()`` one country; its ``local``, ``toll_free``,
``mobile``, ``national``, ``voip``, ``shared_cost`` and ``machine_to_machine`` lists search
numbers: ``client.available_phone_numbers("US").local.list(area_code=415, sms_enabled=True)``.
Paths, filters and fields follow ``twilio_api_v2010.json``
(``/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json``, ...);
every type has the same filters and fields, so one instance class serves them all (where
twilio-python has ``LocalInstance``, ``TollFreeInstance``, ...).
"""

from __future__ import annotations

from twiliocore.rest.base import (
    ContextResource,
    FetchableInstance,
    InstanceResource,
    ReadableList,
    params,
    whole,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    import decimal as _decimal
    from typing import Any

__all__ = [
    "AvailablePhoneNumberCountryContext",
    "AvailablePhoneNumberCountryInstance",
    "AvailablePhoneNumberCountryList",
    "AvailablePhoneNumberInstance",
    "AvailablePhoneNumberList",
]

_COUNTRIES = "/Accounts/{account_sid}/AvailablePhoneNumbers"


class AvailablePhoneNumberInstance(InstanceResource):
    """A number that can be bought (``phone_number``, ``friendly_name``, ``capabilities``, ...).

    ``latitude``/``longitude`` are Decimals, as in twilio-python; ``capabilities`` is the dict
    Twilio sends (``sms``, ``mms``, ``voice``, ``fax``).
    """

    friendly_name: str | None
    phone_number: str | None
    lata: str | None
    locality: str | None
    rate_center: str | None
    latitude: _decimal.Decimal | None
    longitude: _decimal.Decimal | None
    region: str | None
    postal_code: str | None
    iso_country: str | None
    address_requirements: str | None
    beta: bool | None
    capabilities: dict[str, Any] | None


class AvailablePhoneNumberList(ReadableList[AvailablePhoneNumberInstance, None]):
    """Numbers of one type in one country: ``list``, ``stream``, ``page`` with the filters.

    Filters (Twilio's names in PascalCase): ``area_code``, ``contains``, ``sms_enabled``,
    ``mms_enabled``, ``voice_enabled``, ``exclude_all_address_required``,
    ``exclude_local_address_required``, ``exclude_foreign_address_required``, ``beta``,
    ``near_number``, ``near_lat_long``, ``distance``, ``in_postal_code``, ``in_region``,
    ``in_rate_center``, ``in_lata``, ``in_locality``, ``fax_enabled``.
    """

    _path = _COUNTRIES + "/{country_code}/{kind}.json"
    _key = "available_phone_numbers"
    _instance = AvailablePhoneNumberInstance
    _filters = params(
        "area_code", "contains", "sms_enabled", "mms_enabled", "voice_enabled",
        "exclude_all_address_required", "exclude_local_address_required",
        "exclude_foreign_address_required", "beta", "near_number", "near_lat_long",
        "distance", "in_postal_code", "in_region", "in_rate_center", "in_lata", "in_locality",
        "fax_enabled",
        area_code=whole(0),
        distance=whole(0),
    )  # fmt: skip


class AvailablePhoneNumberCountryInstance(FetchableInstance):
    """A country with numbers to buy (``country_code``, ``country``, ``beta``, ...)."""

    country_code: str | None
    country: str | None
    beta: bool | None
    subresource_uris: dict[str, str] | None


class _Kind:
    """A number type of a country: ``country.local`` is its ``Local.json`` list."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def __get__(
        self, country: AvailablePhoneNumberCountryContext, owner: object
    ) -> AvailablePhoneNumberList:
        return AvailablePhoneNumberList(country._client, **country._solution, kind=self._kind)


class AvailablePhoneNumberCountryContext(ContextResource[AvailablePhoneNumberCountryInstance]):
    """One country: ``fetch()`` and its number types, each an :class:`AvailablePhoneNumberList`.

    ``local`` (geographic), ``toll_free``, ``mobile``, ``national``, ``voip``,
    ``shared_cost`` and ``machine_to_machine`` (``Local.json``, ``TollFree.json``, ...).
    """

    _path = _COUNTRIES + "/{country_code}.json"
    _instance = AvailablePhoneNumberCountryInstance
    _sid_key = "country_code"

    local = _Kind("Local")
    toll_free = _Kind("TollFree")
    mobile = _Kind("Mobile")
    national = _Kind("National")
    voip = _Kind("Voip")
    shared_cost = _Kind("SharedCost")
    machine_to_machine = _Kind("MachineToMachine")

    @property
    def country_code(self) -> str:
        """The ISO 3166-1 alpha-2 code of the country (``US``)."""
        return self._solution["country_code"]


AvailablePhoneNumberCountryInstance._context = AvailablePhoneNumberCountryContext


class AvailablePhoneNumberCountryList(
    ReadableList[AvailablePhoneNumberCountryInstance, AvailablePhoneNumberCountryContext]
):
    """``client.available_phone_numbers``: list the countries; call with a country code."""

    _path = _COUNTRIES + ".json"
    _key = "countries"
    _instance = AvailablePhoneNumberCountryInstance
    _context = AvailablePhoneNumberCountryContext
