"""IncomingPhoneNumbers over real HTTP against the loopback fake (fake_twilio.py)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import pytest
from twiliocore import Client, TwilioRestError
from twiliocore.rest.api.v2010.incoming_phone_numbers import IncomingPhoneNumberInstance

from .fake_twilio import ACCOUNT, TOKEN, FakeTwilio

PATH = f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers"
AUTH = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


def test_create_posts_the_spec_form_and_parses_every_field(
    client: Client, fake: FakeTwilio
) -> None:
    number = client.incoming_phone_numbers.create(
        phone_number="+14155550101",
        friendly_name="Support line",
        sms_url="https://example.com/sms",
        voice_caller_id_lookup=True,
        emergency_status="Inactive",
    )
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", PATH + ".json")
    assert request.headers["authorization"] == AUTH
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    # The spec's order of the create form, Twilio's names, twilio-python's serialisation.
    assert request.form == [
        ("FriendlyName", "Support line"),
        ("SmsUrl", "https://example.com/sms"),
        ("VoiceCallerIdLookup", "true"),
        ("EmergencyStatus", "Inactive"),
        ("PhoneNumber", "+14155550101"),
    ]
    assert isinstance(number, IncomingPhoneNumberInstance)
    assert number.sid is not None and number.sid.startswith("PN")
    assert number.phone_number == "+14155550101"
    assert number.friendly_name == "Support line"
    assert number.sms_url == "https://example.com/sms"
    assert number.capabilities == {"mms": True, "sms": True, "voice": True, "fax": False}
    assert number.beta is False
    assert number.origin == "twilio"
    assert number.emergency_address_status == "unregistered"
    assert number.date_created == dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
    assert number.uri == f"{PATH}/{number.sid}.json"
    assert number.to_dict() == fake.numbers[number.sid]


def test_create_by_area_code_and_bad_enum_is_refused_before_sending(
    client: Client, fake: FakeTwilio
) -> None:
    number = client.incoming_phone_numbers.create(area_code="415")
    assert fake.requests[-1].form == [("AreaCode", "415")]
    assert number.phone_number == "+14155550100"
    sent = len(fake.requests)
    with pytest.raises(ValueError, match="emergency_status: must be one of Active, Inactive"):
        client.incoming_phone_numbers.create(phone_number="+1", emergency_status="on")
    with pytest.raises(TypeError, match="unexpected keyword argument 'sms'"):
        client.incoming_phone_numbers.create(sms="https://x")
    assert len(fake.requests) == sent


def test_list_filters_and_pages(client: Client, fake: FakeTwilio) -> None:
    for n in range(5):
        client.incoming_phone_numbers.create(phone_number=f"+1415555010{n}")
    listed = client.incoming_phone_numbers.list(page_size=2)
    assert [n.phone_number for n in listed] == [f"+1415555010{n}" for n in range(5)]
    pages = [r for r in fake.requests if r.method == "GET"]
    assert [r.query for r in pages] == [
        [("PageSize", "2")],
        [("PageSize", "2"), ("Page", "1")],
        [("PageSize", "2"), ("Page", "2")],
    ]
    fake.requests.clear()
    found = client.incoming_phone_numbers.list(
        beta=False, friendly_name="+14155550103", phone_number="+14155550103", origin="twilio"
    )
    assert [n.phone_number for n in found] == ["+14155550103"]
    assert fake.requests[0].query == [
        ("Beta", "false"),
        ("FriendlyName", "+14155550103"),
        ("PhoneNumber", "+14155550103"),
        ("Origin", "twilio"),
    ]
    assert [n.sid for n in client.incoming_phone_numbers.stream(limit=3)] == list(fake.numbers)[:3]
    page = client.incoming_phone_numbers.page(page_size=4)
    assert len(list(page)) == 4 and page.next_page_url is not None
    assert page.next_page_url.startswith(client.base_url + PATH + ".json?")
    last = client.incoming_phone_numbers.get_page(page.next_page_url)
    assert [n.phone_number for n in last] == ["+14155550104"]
    assert last.next_page() is None


def test_fetch_update_delete_through_context_and_instance(client: Client, fake: FakeTwilio) -> None:
    sid = client.incoming_phone_numbers.create(phone_number="+14155550101").sid
    assert sid is not None
    fetched = client.incoming_phone_numbers(sid).fetch()
    assert (fake.requests[-1].method, fake.requests[-1].path) == ("GET", f"{PATH}/{sid}.json")
    assert fetched.sid == sid
    updated = fetched.update(friendly_name="Sales", sms_url="https://example.com/in")
    assert fake.requests[-1].method == "POST"
    assert fake.requests[-1].form == [
        ("FriendlyName", "Sales"),
        ("SmsUrl", "https://example.com/in"),
    ]
    assert (updated.friendly_name, updated.sms_url) == ("Sales", "https://example.com/in")
    assert client.incoming_phone_numbers.get(sid).delete() is True
    request = fake.requests[-1]
    assert (request.method, request.path, request.form) == ("DELETE", f"{PATH}/{sid}.json", [])
    # As twilio-python: Accept: application/json on every call but DELETE (a 204 has no body).
    assert request.headers.get("accept") != "application/json"
    assert fake.requests[-2].headers["accept"] == "application/json"
    with pytest.raises(TwilioRestError) as info:
        fetched.fetch()
    assert (info.value.status, info.value.code) == (404, 20404)
    assert info.value.msg.startswith("Unable to fetch record: ")
    assert info.value.uri == f"/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{sid}.json"


def test_async_twins(client: Client, fake: FakeTwilio) -> None:
    async def main() -> None:
        numbers = client.incoming_phone_numbers
        created = await numbers.create_async(phone_number="+14155550101")
        assert created.sid is not None
        assert [n.sid for n in await numbers.list_async()] == [created.sid]
        assert [n.sid async for n in numbers.stream_async(limit=1)] == [created.sid]
        page = await numbers.page_async(phone_number="+14155550101")
        assert [n.sid for n in page] == [created.sid]
        updated = await numbers(created.sid).update_async(friendly_name="Async")
        assert updated.friendly_name == "Async"
        assert (await created.fetch_async()).friendly_name == "Async"
        assert await created.delete_async() is True
        assert fake.numbers == {}

    asyncio.run(main())


def test_wrong_credentials_and_another_account(fake: FakeTwilio) -> None:
    with Client(ACCOUNT, "wrong", base_url=fake.url) as client:
        with pytest.raises(TwilioRestError) as info:
            client.incoming_phone_numbers.list()
    assert (info.value.status, info.value.code) == (401, 20003)
    assert "wrong" not in repr(info.value) + str(info.value.args)
    other = "AC" + "b2" * 16
    with Client(ACCOUNT, TOKEN, base_url=fake.url) as client:
        numbers = client.api.accounts(other).incoming_phone_numbers
        with pytest.raises(TwilioRestError):
            numbers.list()
    assert fake.requests[-1].path == f"/2010-04-01/Accounts/{other}/IncomingPhoneNumbers.json"


def test_repr_names_the_record(client: Client) -> None:
    number = client.incoming_phone_numbers.create(phone_number="+14155550101")
    assert repr(number) == (
        f"<twiliocore.IncomingPhoneNumberInstance sid={number.sid} status=in-use"
        " phone_number=+14155550101>"
    )
