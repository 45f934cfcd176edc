"""AvailablePhoneNumbers over real HTTP against the loopback fake (fake_twilio.py)."""

from __future__ import annotations

import asyncio
import decimal

import pytest
from twiliocore import Client, TwilioRestError

from .fake_twilio import ACCOUNT, FakeTwilio

PATH = f"/2010-04-01/Accounts/{ACCOUNT}/AvailablePhoneNumbers"


def test_local_numbers_by_area_code_as_in_twilio_python(client: Client, fake: FakeTwilio) -> None:
    found = client.available_phone_numbers("US").local.list(area_code=415)
    request = fake.requests[-1]
    assert (request.method, request.path, request.query) == (
        "GET",
        f"{PATH}/US/Local.json",
        [("AreaCode", "415")],
    )
    assert [n.phone_number for n in found] == ["+14155550101"]
    number = found[0]
    assert number.friendly_name == "(415) 555-0101"
    assert number.locality == "San Francisco"
    assert number.rate_center == "SNFC CA"
    assert number.latitude == decimal.Decimal("37.77")
    assert number.longitude == decimal.Decimal("-122.42")
    assert (number.region, number.postal_code, number.iso_country) == ("CA", "94105", "US")
    assert number.capabilities is not None and number.capabilities["sms"] is True
    assert number.to_dict()["lata"] == "722"


def test_every_filter_has_the_spec_name_and_serialisation(client: Client, fake: FakeTwilio) -> None:
    client.available_phone_numbers("US").mobile.list(
        area_code="212",
        contains="555",
        sms_enabled=True,
        mms_enabled=False,
        voice_enabled=True,
        exclude_all_address_required=True,
        exclude_local_address_required=False,
        exclude_foreign_address_required=True,
        beta=False,
        near_number="+14155550101",
        near_lat_long="37.77,-122.42",
        distance=50,
        in_postal_code="94105",
        in_region="CA",
        in_rate_center="SNFC CA",
        in_lata="722",
        in_locality="San Francisco",
        fax_enabled=False,
        page_size=20,
    )
    request = fake.requests[-1]
    assert request.path == f"{PATH}/US/Mobile.json"
    assert request.query == [
        ("AreaCode", "212"),
        ("Contains", "555"),
        ("SmsEnabled", "true"),
        ("MmsEnabled", "false"),
        ("VoiceEnabled", "true"),
        ("ExcludeAllAddressRequired", "true"),
        ("ExcludeLocalAddressRequired", "false"),
        ("ExcludeForeignAddressRequired", "true"),
        ("Beta", "false"),
        ("NearNumber", "+14155550101"),
        ("NearLatLong", "37.77,-122.42"),
        ("Distance", "50"),
        ("InPostalCode", "94105"),
        ("InRegion", "CA"),
        ("InRateCenter", "SNFC CA"),
        ("InLata", "722"),
        ("InLocality", "San Francisco"),
        ("FaxEnabled", "false"),
        ("PageSize", "20"),
    ]
    with pytest.raises(ValueError, match="area_code: expected a whole number"):
        client.available_phone_numbers("US").local.list(area_code="4x5")
    with pytest.raises(TypeError, match="unexpected keyword argument 'areacode'"):
        client.available_phone_numbers("US").local.list(areacode=415)


@pytest.mark.parametrize(
    ("attribute", "kind"),
    [
        ("local", "Local"),
        ("toll_free", "TollFree"),
        ("mobile", "Mobile"),
        ("national", "National"),
        ("voip", "Voip"),
        ("shared_cost", "SharedCost"),
        ("machine_to_machine", "MachineToMachine"),
    ],
)
def test_each_number_type_has_its_path(
    client: Client, fake: FakeTwilio, attribute: str, kind: str
) -> None:
    list(getattr(client.available_phone_numbers("US"), attribute).stream(contains="555"))
    assert fake.requests[-1].path == f"{PATH}/US/{kind}.json"
    assert fake.requests[-1].query == [("Contains", "555")]


def test_countries_list_and_fetch(client: Client, fake: FakeTwilio) -> None:
    countries = client.available_phone_numbers.list()
    assert fake.requests[-1].path == f"{PATH}.json"
    assert [(c.country_code, c.country, c.beta) for c in countries] == [
        ("US", "United States", False)
    ]
    us = countries[0].fetch()
    assert fake.requests[-1].path == f"{PATH}/US.json"
    assert us.subresource_uris is not None and us.subresource_uris["local"].endswith("Local.json")
    with pytest.raises(TwilioRestError) as info:
        client.available_phone_numbers("ZZ").fetch()
    assert info.value.status == 404
    assert client.api.v2010.account.available_phone_numbers("US").country_code == "US"


def test_async_search(client: Client, fake: FakeTwilio) -> None:
    async def main() -> list[str | None]:
        local = client.available_phone_numbers("US").local
        return [n.phone_number for n in await local.list_async(mms_enabled=True)]

    assert asyncio.run(main()) == ["+14155550101"]
    assert fake.requests[-1].query == [("MmsEnabled", "true")]
