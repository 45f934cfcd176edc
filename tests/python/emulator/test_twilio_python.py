"""Twilio's own Python SDK works against the emulator, only the base URL differs."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

twilio_rest = pytest.importorskip("twilio.rest")
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twiliocore import RequestValidator  # noqa: E402

from .spec import response_schema, validate  # noqa: E402


@pytest.fixture
def client(fresh_emulator):
    client = twilio_rest.Client(fresh_emulator.account_sid, fresh_emulator.auth_token)
    client.api.base_url = fresh_emulator.url
    return client


def test_sdk_creates_fetches_and_pages(client, fresh_emulator):
    created = [
        client.messages.create(to="+14155552671", from_="+15005550006", body=f"m{i}")
        for i in range(5)
    ]
    assert all(m.status == "queued" and m.sid.startswith("SM") for m in created)
    assert client.messages(created[0].sid).fetch().body == "m0"
    listed = list(client.messages.stream(page_size=2))
    assert [m.sid for m in listed] == [m.sid for m in reversed(created)]
    whatsapp = client.messages.create(
        to="whatsapp:+14155552671", from_="whatsapp:+14155238886", body="hola"
    )
    assert whatsapp.to == "whatsapp:+14155552671"
    assert client.api.v2010.accounts(fresh_emulator.account_sid).fetch().status == "active"


def test_sdk_sees_twilio_error_codes(client):
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+15005550001", from_="+15005550006", body="x")
    assert (info.value.status, info.value.code) == (400, 21211)


def test_sdk_status_callbacks_validate_with_both_validators(
    client, fresh_emulator, webhook_receiver
):
    from twilio.request_validator import RequestValidator as TwilioValidator

    client.messages.create(
        to="+14155552671",
        from_="+15005550006",
        body="x",
        status_callback=webhook_receiver.url + "/cb",
    )
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 3)
    for request in requests:
        signature = request.headers["x-twilio-signature"]
        assert TwilioValidator(fresh_emulator.auth_token).validate(
            request.url, request.form, signature
        )
        assert RequestValidator(fresh_emulator.auth_token).validate(
            request.url, request.params, signature
        )


SERVICE = "MG" + "a" * 32
TO = "+14155552671"
FROM = "+15005550006"


def wait_for_status(client, sid, statuses, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        message = client.messages(sid).fetch()
        if message.status in statuses:
            return message
        assert time.monotonic() < deadline, f"status stayed {message.status}"
        time.sleep(0.02)


def raw_get(client, url, **params):
    response = client.request("GET", url, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text)


def test_sdk_message_instance_fields_have_twilio_types(client, fresh_emulator):
    sid = client.messages.create(to=TO, from_=FROM, body="typed").sid
    message = wait_for_status(client, sid, {"delivered"})
    for name in ("date_created", "date_updated", "date_sent"):
        value = getattr(message, name)
        assert isinstance(value, datetime) and value.tzinfo is not None, name
    assert (message.num_segments, message.num_media) == ("1", "0")
    assert isinstance(message.price, str) and float(message.price) < 0
    assert message.price_unit == "USD" and message.api_version == "2010-04-01"
    assert message.direction == "outbound-api" and message.error_code is None
    base = f"/2010-04-01/Accounts/{fresh_emulator.account_sid}/Messages/{sid}"
    assert message.uri == base + ".json"
    assert message.subresource_uris == {
        "media": base + "/Media.json",
        "feedback": base + "/Feedback.json",
    }


@pytest.mark.parametrize(
    ("to", "from_", "code"),
    [
        ("+15005550001", FROM, 21211),
        ("+15005550002", FROM, 21612),
        ("+15005550003", FROM, 21408),
        ("+15005550004", FROM, 21610),
        ("+15005550009", FROM, 21614),
        (TO, "+15005550001", 21212),
        (TO, "+15005550007", 21606),
        (TO, "+15005550008", 21611),
    ],
)
def test_sdk_sees_every_magic_number_error(client, to, from_, code):
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=to, from_=from_, body="x")
    assert (info.value.status, info.value.code, info.value.method) == (400, code, "POST")
    assert info.value.msg.startswith("Unable to create record: ")


def test_sdk_messaging_service_send_has_no_sender_until_one_is_assigned(client):
    # Spec: from is null (example createWithMessagingService) and num_segments "0"
    # ("initially 0, since a sender hasn't yet been assigned") until the service picks one.
    accepted = client.messages.create(to=TO, messaging_service_sid=SERVICE, body="hi")
    assert accepted.status == "accepted" and accepted.messaging_service_sid == SERVICE
    assert (accepted.from_, accepted.num_segments) == (None, "0")
    delivered = wait_for_status(client, accepted.sid, {"delivered"})
    assert (delivered.from_, delivered.num_segments) == (FROM, "1")
    assert [m.sid for m in client.messages.list(from_=FROM)] == [accepted.sid]


def test_sdk_schedules_and_cancels_through_a_messaging_service(client):
    send_at = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)
    scheduled = client.messages.create(
        to=TO, messaging_service_sid=SERVICE, body="later", schedule_type="fixed", send_at=send_at
    )
    assert scheduled.status == "scheduled" and scheduled.from_ is None
    assert scheduled.num_segments == "0"
    canceled = client.messages(scheduled.sid).update(status="canceled")
    assert canceled.status == "canceled" and canceled.from_ is None  # example cancelMessage
    assert client.messages(scheduled.sid).fetch().status == "canceled"


def test_sdk_list_uri_repeats_the_filters_and_paging(client, fresh_emulator):
    for _ in range(3):
        client.messages.create(to=TO, from_=FROM, body="x")
    base = f"/2010-04-01/Accounts/{fresh_emulator.account_sid}/Messages.json"
    page = raw_get(client, fresh_emulator.url + base, To=TO, PageSize=2)
    expected = f"{base}?To=%2B14155552671&PageSize=2&Page=0"
    assert page["uri"] == page["first_page_uri"] == expected  # as readFullPage1 in the spec
    second = raw_get(client, fresh_emulator.url + page["next_page_uri"])
    assert second["uri"] == page["next_page_uri"] and len(second["messages"]) == 1


def test_sdk_date_sent_filters_accept_every_format_of_the_spec(client, fresh_emulator):
    sid = client.messages.create(to=TO, from_=FROM, body="x").sid
    wait_for_status(client, sid, {"delivered"})
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    day = timedelta(days=1)
    assert [m.sid for m in client.messages.list(date_sent=now)] == [sid]
    assert [m.sid for m in client.messages.list(date_sent_after=now - day)] == [sid]
    assert [m.sid for m in client.messages.list(date_sent_before=now + day)] == [sid]
    assert client.messages.list(date_sent_after=now + day) == []
    assert client.messages.list(date_sent_before=now - day) == []
    # readEmptySentdateGreaterFormat1..3 in the spec: all answered 200.
    for value in (
        "06/11/2019 22:05:25 MST",
        "2019-06-11 22:05:25.000",
        "Wed, 19 Jun 2019 22:04:00 -0000",
    ):
        assert [m.sid for m in client.messages.list(date_sent_after=value)] == [sid]
        assert client.messages.list(date_sent_before=value) == []


def test_sdk_media_list_filters_by_date_created(client):
    sid = client.messages.create(
        to=TO, from_=FROM, media_url=["https://example.com/a.png", "https://example.com/b.jpg"]
    ).sid
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    media = client.messages(sid).media
    assert [m.content_type for m in media.list()] == ["image/png", "image/jpeg"]
    assert len(media.list(date_created=now)) == 2
    assert media.list(date_created_after=now + timedelta(days=1)) == []
    assert media.list(date_created_before=now - timedelta(days=1)) == []
    first = media.list()[0]
    assert media(first.sid).fetch().parent_sid == sid
    assert media(first.sid).delete() is True
    assert [m.sid for m in media.list()] != [first.sid] and len(media.list()) == 1


def test_sdk_creates_message_feedback(client, fresh_emulator):
    sid = client.messages.create(to=TO, from_=FROM, body="Your code is 1234").sid
    feedback = client.messages(sid).feedback.create(outcome="unconfirmed")
    assert (feedback.message_sid, feedback.outcome) == (sid, "unconfirmed")
    assert feedback.account_sid == fresh_emulator.account_sid
    assert isinstance(feedback.date_created, datetime)
    assert client.messages(sid).feedback.create().outcome == "confirmed"
    [record] = fresh_emulator.messages()
    assert record["feedback_outcome"] == "confirmed"
    with pytest.raises(TwilioRestException) as info:
        client.messages("SM" + "0" * 32).feedback.create(outcome="confirmed")
    assert (info.value.status, info.value.code) == (404, 20404)


def test_sdk_accounts_list_honours_its_filters(client, fresh_emulator):
    accounts = client.api.v2010.accounts
    assert client.api.v2010.account.fetch().sid == fresh_emulator.account_sid
    assert [a.sid for a in accounts.list(status="active")] == [fresh_emulator.account_sid]
    name = accounts(fresh_emulator.account_sid).fetch().friendly_name
    assert [a.sid for a in accounts.list(friendly_name=name)] == [fresh_emulator.account_sid]
    assert accounts.list(status="closed") == []
    assert accounts.list(friendly_name=name + " other") == []


def test_sdk_wrong_credentials_and_other_accounts(client, fresh_emulator):
    wrong = twilio_rest.Client(fresh_emulator.account_sid, "0" * 32)
    wrong.api.base_url = fresh_emulator.url
    with pytest.raises(TwilioRestException) as info:
        wrong.messages.create(to=TO, from_=FROM, body="x")
    assert (info.value.status, info.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as info:
        client.api.v2010.accounts("AC" + "1" * 32).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)


# twilio-python's async client passes aiohttp.BasicAuth as ``auth``, both deprecated in
# the installed aiohttp: the SDK's warnings, not the emulator's.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
def test_sdk_async_client_creates_lists_and_fetches(fresh_emulator):
    from twilio.http.async_http_client import AsyncTwilioHttpClient

    async def scenario():
        async with AsyncTwilioHttpClient() as http:
            client = twilio_rest.Client(
                fresh_emulator.account_sid, fresh_emulator.auth_token, http_client=http
            )
            client.api.base_url = fresh_emulator.url
            sent = await client.messages.create_async(to=TO, from_=FROM, body="async")
            routed = await client.messages.create_async(
                to=TO, messaging_service_sid=SERVICE, body="via service"
            )
            listed = await client.messages.list_async(page_size=1)
            fetched = await client.messages(sent.sid).fetch_async()
            with pytest.raises(TwilioRestException) as info:
                await client.messages.create_async(to="+15005550002", from_=FROM, body="x")
            return sent, routed, listed, fetched, info.value

    sent, routed, listed, fetched, error = asyncio.run(scenario())
    assert sent.status == "queued" and fetched.body == "async"
    assert routed.status == "accepted" and routed.from_ is None
    assert [m.sid for m in listed] == [routed.sid, sent.sid]
    assert (error.status, error.code) == (400, 21612)


def test_new_answers_match_the_spec_schemas(client, fresh_emulator):
    account = f"/2010-04-01/Accounts/{fresh_emulator.account_sid}"
    sid = client.messages.create(to=TO, from_=FROM, media_url="https://example.com/a.png").sid
    response = client.request(
        "POST", f"{fresh_emulator.url}{account}/Messages/{sid}/Feedback.json", data={}
    )
    assert response.status_code == 200, response.text
    path = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}"
    validate(json.loads(response.text), response_schema(path + "/Feedback.json", "post", "200"))
    media = raw_get(client, f"{fresh_emulator.url}{account}/Messages/{sid}/Media.json")
    validate(media, response_schema(path + "/Media.json", "get", "200"))
    accounts = raw_get(client, fresh_emulator.url + "/2010-04-01/Accounts.json", Status="active")
    validate(accounts, response_schema("/2010-04-01/Accounts.json", "get", "200"))
    assert accounts["uri"] == "/2010-04-01/Accounts.json?Status=active&PageSize=50&Page=0"


# Smart Encoding and Content templates --------------------------------------------------------

SMART_BODY = "\u201c" + "a" * 70 + "\u201d \u2014 " + "b" * 75  # 150 characters, UCS-2 as written
SMART_SENT = '"' + "a" * 70 + '" - ' + "b" * 75


def test_sdk_smart_encoded_sends_gsm7_look_alikes(client):
    plain = client.messages.create(to=TO, from_=FROM, body=SMART_BODY)
    assert (plain.num_segments, plain.body) == ("3", SMART_BODY)
    smart = client.messages.create(to=TO, from_=FROM, body=SMART_BODY, smart_encoded=True)
    assert (smart.num_segments, smart.body) == ("1", SMART_SENT)
    assert client.messages(smart.sid).fetch().body == SMART_SENT
    explicit_false = client.messages.create(to=TO, from_=FROM, body=SMART_BODY, smart_encoded=False)
    assert explicit_false.num_segments == "3"


def test_sdk_smart_encoded_leaves_ucs2_whatsapp_and_mms_bodies_as_written(client):
    with_emoji = SMART_BODY + " \U0001f600"
    ucs2 = client.messages.create(to=TO, from_=FROM, body=with_emoji, smart_encoded=True)
    assert (ucs2.num_segments, ucs2.body) == ("3", with_emoji)
    whatsapp = client.messages.create(
        to="whatsapp:" + TO, from_="whatsapp:+14155238886", body=SMART_BODY, smart_encoded=True
    )
    assert (whatsapp.num_segments, whatsapp.body) == ("1", SMART_BODY)
    mms = client.messages.create(
        to=TO,
        from_=FROM,
        body=SMART_BODY,
        media_url=["https://example.com/a.png"],
        smart_encoded=True,
    )
    assert (mms.num_segments, mms.body) == ("1", SMART_BODY)


def test_sdk_smart_encoded_takes_only_a_boolean(client):
    upper = client.messages.create(to=TO, from_=FROM, body="\u2018ok\u2019", smart_encoded="True")
    assert upper.body == "'ok'"
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, body="x", smart_encoded="maybe")
    assert (info.value.status, info.value.code) == (400, 20001)
    assert "SmartEncoded" in info.value.msg


CONTENT_SID = "HX" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    "content_sid", ["HX123", "XX" + "a" * 32, "HX" + "g" * 32, "hx" + "a" * 32]
)
def test_sdk_invalid_content_sid_is_21655(client, content_sid):
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, content_sid=content_sid)
    assert (info.value.status, info.value.code) == (400, 21655)


@pytest.mark.parametrize(
    "variables",
    ["not json", "[]", '"x"', '{"1": 5}', '{"1": null}', '{"1": ""}', '{"1": {"a": "b"}}'],
)
def test_sdk_invalid_content_variables_is_21656(client, variables):
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(
            to=TO, from_=FROM, content_sid=CONTENT_SID, content_variables=variables
        )
    assert (info.value.status, info.value.code) == (400, 21656)


def test_sdk_content_variables_need_a_content_sid(client):
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, body="x", content_variables='{"1": "a"}')
    assert (info.value.status, info.value.code) == (400, 21654)


def test_sdk_accepts_a_content_template(client):
    variables = json.dumps({"1": "12/1", "2": "3pm"})
    message = client.messages.create(
        to=TO, from_=FROM, content_sid=CONTENT_SID, content_variables=variables
    )
    assert message.status == "queued" and message.sid.startswith("SM")
    bare = client.messages.create(to=TO, from_=FROM, content_sid=CONTENT_SID.upper())
    assert bare.status == "queued"
