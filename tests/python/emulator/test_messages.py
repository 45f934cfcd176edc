"""Messages over real HTTP: create, validation codes, magic numbers, list, fetch, update, delete."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from twiliocore.segments import count_segments

from .spec import (
    MESSAGE,
    MESSAGES_PATH,
    assert_twilio_error,
    component,
    response_schema,
    validate,
)

RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")


def wait_status(api: Any, sid: str, statuses: set[str], timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = api.fetch(sid)
        if data["status"] in statuses:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"status stayed {data['status']}, wanted {statuses}")
        time.sleep(0.02)


def test_create_returns_201_with_every_field_of_the_spec(api):
    response = api.send(Body="Your code is 123456")
    assert response.status_code == 201
    data = response.json()
    schema = response_schema(MESSAGES_PATH, "post", "201")
    validate(data, schema)
    assert set(data) == set(component(MESSAGE)["properties"])
    assert re.fullmatch(r"SM[0-9a-f]{32}", data["sid"])
    assert data["account_sid"] == api.emulator.account_sid
    assert data["status"] == "queued"
    assert data["direction"] == "outbound-api"
    assert data["num_segments"] == "1" and data["num_media"] == "0"
    assert data["price"] is None
    assert data["api_version"] == "2010-04-01"
    assert RFC2822.match(data["date_created"]) and RFC2822.match(data["date_updated"])
    assert data["uri"] == f"{api.account}/Messages/{data['sid']}.json"
    assert data["subresource_uris"]["media"] == f"{api.account}/Messages/{data['sid']}/Media.json"
    assert data["from"] == "+15005550006" and data["to"] == "+14155552671"


@pytest.mark.parametrize(
    "body",
    [
        "a" * 160,
        "a" * 161,
        "é" * 70,  # é is GSM-7
        "ё" * 70,  # Cyrillic: UCS-2
        "ё" * 71,
        "[]" * 80,  # extension characters count twice
        "😀" * 35,
        "x" * 1600,
    ],
)
def test_num_segments_follows_gsm7_and_ucs2_rules(api, body):
    data = api.send(Body=body).json()
    assert data["num_segments"] == str(count_segments(body).num_segments)


def test_segment_counts_match_twilio_examples(api):
    assert api.send(Body="a" * 160).json()["num_segments"] == "1"
    assert api.send(Body="a" * 161).json()["num_segments"] == "2"
    assert api.send(Body="a" * 306).json()["num_segments"] == "2"
    assert api.send(Body="a" * 307).json()["num_segments"] == "3"
    assert api.send(Body="ё" * 70).json()["num_segments"] == "1"
    assert api.send(Body="ё" * 71).json()["num_segments"] == "2"
    assert api.send(Body="[" * 81).json()["num_segments"] == "2"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"To": ""}, 21604),
        ({"From": ""}, 21603),
        ({"Body": "", "MediaUrl": ""}, 21602),
        ({"To": "+1415555"}, 21211),
        ({"To": "not a number"}, 21211),
        ({"To": "+15558675310"}, 21211),  # not valid for its region
        ({"To": "4155552671"}, 21211),  # not E.164
        ({"From": "+1234"}, 21212),
        ({"From": "not@valid!"}, 21212),
        ({"From": "+14155550199"}, 21606),  # valid, but not the account's
        ({"From": "MyBrand"}, 21659),  # alphanumeric ID not registered
        ({"Body": "x" * 1601}, 21617),
        ({"StatusCallback": "ftp://example.com/cb"}, 21609),
        ({"StatusCallback": "https://bad_host.example.com/cb"}, 21609),
        ({"StatusCallback": "not a url"}, 21609),
        ({"To": "whatsapp:+14155552671"}, 21910),
        ({"From": "whatsapp:+14155238886"}, 21910),
        ({"From": "whatsapp:+14155550199", "To": "whatsapp:+14155552671"}, 63007),
        ({"MediaUrl": "file:///etc/passwd"}, 21620),
        ({"MessagingServiceSid": "MG123"}, 21701),
        ({"ValidityPeriod": "0"}, 20001),
        ({"ValidityPeriod": "abc"}, 20001),
        ({"To": "+15005550006"}, 21266),
        # URLs urlsplit refuses (bad bracketed host) or whose port is not 0..65535, and a
        # host name that is only dots: invalid, not a 500 nor a callback that never goes.
        ({"StatusCallback": "http://[::1"}, 21609),
        ({"StatusCallback": "http://[nope]/cb"}, 21609),
        ({"StatusCallback": "http://example.com:99999/cb"}, 21609),
        ({"StatusCallback": "http://.../cb"}, 21609),
        ({"MediaUrl": "http://[::1"}, 21620),
        ({"MediaUrl": "https://example.com:70000/a.png"}, 21620),
        # JSON nested deeper than the decoder recurses is not valid JSON either.
        ({"ContentSid": "HX" + "a" * 32, "ContentVariables": "[" * 100_000}, 21656),
        # Arabic-Indic digits are not E.164 digits, nor an integer Twilio reads.
        ({"To": "+1\u0664\u0661\u06655552671"}, 21211),
        ({"From": "+1\u0665\u0660\u06605550006"}, 21212),
        ({"ValidityPeriod": "\u0665"}, 20001),
        ({"ValidityPeriod": "1_000"}, 20001),
        # Parameters of the spec's other types (the emulator ignores them; Twilio checks).
        ({"ProvideFeedback": "maybe"}, 20001),
        ({"ForceDelivery": "1"}, 20001),
        ({"ShortenUrls": "yes"}, 20001),
        ({"SendAsMms": "no"}, 20001),
        ({"Attempt": "twice"}, 20001),
        ({"Attempt": "-1"}, 20001),
        ({"MaxPrice": "cheap"}, 20001),
        ({"MaxPrice": "NaN"}, 20001),
        ({"ContentRetention": "forever"}, 20001),
        ({"AddressRetention": "retain "}, 20001),
        ({"TrafficType": "paid"}, 20001),
        ({"RiskCheck": "off"}, 20001),
        ({"ApplicationSid": "AP123"}, 20001),
    ],
)
def test_create_validation_errors(api, params, code):
    response = api.send(**params)
    assert_twilio_error(response, 400, code)
    assert api.emulator.messages() == []


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", 21211),
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550004", 21610),
        ("+15005550009", 21614),
    ],
)
def test_magic_to_numbers(api, to, code):
    assert_twilio_error(api.send(To=to), 400, code)


@pytest.mark.parametrize(
    ("from_", "code"),
    [("+15005550001", 21212), ("+15005550007", 21606), ("+15005550008", 21611)],
)
def test_magic_from_numbers(api, from_, code):
    assert_twilio_error(api.send(From=from_), 400, code)


def test_magic_from_15005550006_delivers_to_any_other_valid_number(api):
    data = api.send(To="+447400123456").json()
    assert wait_status(api, data["sid"], {"delivered"})["status"] == "delivered"


def test_message_moves_through_statuses_and_gets_a_price(api):
    sid = api.send().json()["sid"]
    data = wait_status(api, sid, {"delivered"})
    validate(data, component(MESSAGE))
    assert data["price"] is not None and data["price"].startswith("-")
    assert data["price_unit"] == "USD"
    assert RFC2822.match(data["date_sent"])
    [record] = api.emulator.messages()
    assert record["status_history"] == ["queued", "sending", "sent", "delivered"]


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [("+15005550010", "undelivered", 30003), ("+15005550012", "failed", 30008)],
)
def test_failing_numbers_end_with_an_error_code(api, to, status, code):
    sid = api.send(To=to).json()["sid"]
    data = wait_status(api, sid, {status})
    assert data["error_code"] == code
    assert data["error_message"]
    validate(data, component(MESSAGE))


def test_whatsapp_message_is_delivered_then_read(api):
    response = api.send(From="whatsapp:+14155238886", To="whatsapp:+14155552671", Body="hi")
    assert response.status_code == 201
    data = response.json()
    assert data["to"] == "whatsapp:+14155552671" and data["num_segments"] == "1"
    assert wait_status(api, data["sid"], {"read"})["status"] == "read"


def test_media_message_gets_mm_sid_and_num_media(api):
    data = api.send(
        Body="", MediaUrl=["https://example.com/a.jpg", "https://example.com/b.png"]
    ).json()
    assert data["sid"].startswith("MM")
    assert data["num_media"] == "2"
    [record] = api.emulator.messages()
    assert record["media_urls"] == ["https://example.com/a.jpg", "https://example.com/b.png"]


def test_too_many_media_urls(api):
    urls = [f"https://example.com/{i}.jpg" for i in range(11)]
    assert_twilio_error(api.send(MediaUrl=urls), 400, 21623)


def test_messaging_service_starts_accepted_and_picks_a_sender(api):
    service = "MG" + "a" * 32
    response = api.http.post(
        api.messages, data={"To": "+14155552671", "MessagingServiceSid": service, "Body": "x"}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "accepted"
    assert data["messaging_service_sid"] == service
    # The service has not assigned the sender yet (spec example createWithMessagingService).
    assert data["from"] is None and data["num_segments"] == "0"
    delivered = wait_status(api, data["sid"], {"delivered"})
    assert delivered["from"] == "+15005550006" and delivered["num_segments"] == "1"


def test_phone_numbers_setting_adds_senders(make_emulator, api_for):
    api = api_for(make_emulator(phone_numbers=["+14155550100", "MyBrand", "12345"]))
    for sender in ("+14155550100", "MyBrand", "12345", "+15005550006"):
        assert api.send(From=sender).status_code == 201, sender


def test_fetch_unknown_message_is_20404(api):
    assert_twilio_error(api.http.get(api.message_url("SM" + "0" * 32)), 404, 20404)
    assert_twilio_error(api.http.get(api.message_url("bogus")), 404, 20404)


def test_list_pages_newest_first_with_paging_fields(api):
    sids = [api.send(Body=f"m{i}").json()["sid"] for i in range(5)]
    response = api.http.get(api.messages, params={"PageSize": 2})
    assert response.status_code == 200
    page = response.json()
    validate(page, response_schema(MESSAGES_PATH, "get", "200"))
    assert [m["sid"] for m in page["messages"]] == [sids[4], sids[3]]
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert page["previous_page_uri"] is None
    seen = [m["sid"] for m in page["messages"]]
    while page["next_page_uri"]:
        page = api.http.get(page["next_page_uri"]).json()
        seen += [m["sid"] for m in page["messages"]]
    assert seen == list(reversed(sids))
    assert page["page"] == 2 and page["start"] == 4
    assert page["previous_page_uri"] is not None
    first = api.http.get(page["first_page_uri"]).json()
    assert [m["sid"] for m in first["messages"]] == [sids[4], sids[3]]
    by_page = api.http.get(api.messages, params={"PageSize": 2, "Page": 1}).json()
    assert [m["sid"] for m in by_page["messages"]] == [sids[2], sids[1]]


def test_list_filters_to_from_and_date_sent(api):
    a = api.send(To="+14155552671").json()["sid"]
    b = api.send(To="+447400123456").json()["sid"]
    wait_status(api, a, {"delivered"})
    wait_status(api, b, {"delivered"})
    only_b = api.http.get(api.messages, params={"To": "+447400123456"}).json()["messages"]
    assert [m["sid"] for m in only_b] == [b]
    assert api.http.get(api.messages, params={"From": "+15005550001"}).json()["messages"] == []
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(api.http.get(api.messages, params={"DateSent": today}).json()["messages"]) == 2
    assert len(api.http.get(api.messages, params={"DateSent>": today}).json()["messages"]) == 2
    before = api.http.get(api.messages, params={"DateSent<": "2008-01-02"}).json()
    assert before["messages"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"PageSize": "0"},
        {"PageSize": "1001"},
        {"Page": "x"},
        {"PageSize": "\u0665"},
        {"Page": " 1"},
    ],
)
def test_list_rejects_bad_paging(api, params):
    assert_twilio_error(api.http.get(api.messages, params=params), 400, 20001)


@pytest.mark.parametrize(
    "value",
    # RFC 2822 dates whose GMT date falls after Python's last year, 9999.
    ["Fri, 31 Dec 9999 23:59:59 -0100", "31 Dec 9999 13:00:00 -1200"],
)
def test_date_filters_out_of_range_are_400(api, value):
    sid = api.send(MediaUrl="https://example.com/a.png").json()["sid"]
    for name in ("DateSent", "DateSent<", "DateSent>"):
        response = api.http.get(api.messages, params={name: value})
        assert_twilio_error(response, 400, 20001)
    media = f"{api.account}/Messages/{sid}/Media.json"
    assert_twilio_error(api.http.get(media, params={"DateCreated": value}), 400, 20001)


def test_typed_create_parameters_accept_what_the_sdks_send(api):
    params = {
        "ProvideFeedback": "true",
        "ForceDelivery": "False",
        "ShortenUrls": "false",
        "SendAsMms": "True",
        "Attempt": "2",
        "MaxPrice": "0.05",
        "ContentRetention": "discard",
        "AddressRetention": "obfuscate",
        "TrafficType": "free",
        "RiskCheck": "disable",
        "ApplicationSid": "AP" + "c" * 32,
        "StatusCallback": "http://127.0.0.1:9/cb",
    }
    response = api.send(**params)
    assert response.status_code == 201, response.text
    validate(response.json(), component(MESSAGE))
    for name, value in (("MaxPrice", "1"), ("MaxPrice", "1e-2"), ("Attempt", "0")):
        assert api.send(**{name: value}).status_code == 201


def test_redact_body(api):
    sid = api.send(Body="secret").json()["sid"]
    response = api.http.post(api.message_url(sid), data={"Body": ""})
    assert response.status_code == 200
    assert response.json()["body"] == ""
    assert api.fetch(sid)["body"] == ""
    assert_twilio_error(api.http.post(api.message_url(sid), data={"Body": "new"}), 400, 20001)


def test_schedule_and_cancel(api, webhook_receiver):
    send_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    params = {
        "To": "+14155552671",
        "MessagingServiceSid": "MG" + "b" * 32,
        "Body": "later",
        "ScheduleType": "fixed",
        "SendAt": send_at,
        "StatusCallback": webhook_receiver.url + "/status",
    }
    data = api.http.post(api.messages, data=params).json()
    assert data["status"] == "scheduled"
    response = api.http.post(api.message_url(data["sid"]), data={"Status": "canceled"})
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    # The cancel is a status change after creation: Twilio posts it to the callback. No
    # sender was assigned, so the callback has no From (the resource's from is null).
    [callback] = webhook_receiver.wait_for(lambda r: len(r) >= 1)
    assert callback.form["MessageStatus"] == callback.form["SmsStatus"] == "canceled"
    assert callback.form["MessageSid"] == data["sid"] and "From" not in callback.form
    # Past "scheduled" a message cannot be canceled: Twilio's 30409.
    sent = api.send().json()["sid"]
    response = api.http.post(api.message_url(sent), data={"Status": "canceled"})
    assert_twilio_error(response, 400, 30409)
    response = api.http.post(api.message_url(data["sid"]), data={"Status": "canceled"})
    assert_twilio_error(response, 400, 30409)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"ScheduleType": "sometime"}, 35126),
        ({"SendAt": None}, 35111),
        ({"MessagingServiceSid": None, "From": "+15005550006"}, 35118),
        ({"SendAt": "2001-01-01T00:00:00Z"}, 35114),
    ],
)
def test_schedule_validation(api, extra, code):
    params = {
        "To": "+14155552671",
        "MessagingServiceSid": "MG" + "b" * 32,
        "Body": "later",
        "ScheduleType": "fixed",
        "SendAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
    }
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    assert_twilio_error(api.http.post(api.messages, data=params), 400, code)


def test_delete_after_delivery_and_not_before(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.05))
    api.send()  # occupies the sender for 20 s
    waiting = api.send().json()["sid"]
    assert_twilio_error(api.http.delete(api.message_url(waiting)), 400, 20009)
    api.emulator.reset()
    api2 = api_for(make_emulator(status_delay=0.5))
    sid = api2.send().json()["sid"]
    # "sent" still waits for the carrier's receipt: Twilio refuses to delete it.
    wait_status(api2, sid, {"sent"})
    assert_twilio_error(api2.http.delete(api2.message_url(sid)), 400, 20009)
    wait_status(api2, sid, {"delivered"})
    response = api2.http.delete(api2.message_url(sid))
    assert response.status_code == 204 and response.content == b""
    assert_twilio_error(api2.http.get(api2.message_url(sid)), 404, 20404)


def test_inspection_records_request_headers(api):
    api.http.post(
        api.messages,
        data={"To": "+14155552671", "From": "+15005550006", "Body": "x"},
        headers={"User-Agent": "twiliocore-test/1.0", "I-Twilio-Idempotency-Token": "tok-1"},
    )
    [record] = api.emulator.messages()
    assert record["request_headers"]["user-agent"] == "twiliocore-test/1.0"
    assert record["request_headers"]["i-twilio-idempotency-token"] == "tok-1"


def test_media_subresource_lists_fetches_and_deletes(api):
    data = api.send(
        Body="pics", MediaUrl=["https://example.com/a.png", "https://example.com/b"]
    ).json()
    media_uri = data["subresource_uris"]["media"]
    page = api.http.get(media_uri)
    assert page.status_code == 200
    listing = page.json()
    path = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json"
    validate(listing, response_schema(path, "get", "200"))
    items = listing["media_list"]
    assert [m["content_type"] for m in items] == ["image/png", "image/jpeg"]
    assert all(re.fullmatch(r"ME[0-9a-f]{32}", m["sid"]) for m in items)
    assert all(m["parent_sid"] == data["sid"] for m in items)
    one = api.http.get(items[0]["uri"])
    assert one.status_code == 200 and one.json() == items[0]
    assert api.http.delete(items[0]["uri"]).status_code == 204
    assert_twilio_error(api.http.get(items[0]["uri"]), 404, 20404)
    assert [m["sid"] for m in api.http.get(media_uri).json()["media_list"]] == [items[1]["sid"]]


def test_inbound_stop_opts_out_and_start_opts_back_in(make_emulator, api_for, webhook_receiver):
    import httpx

    emulator = make_emulator(sms_url=webhook_receiver.url + "/sms")
    api = api_for(emulator)

    def inbound(body):
        response = httpx.post(
            emulator.url + "/_emulator/inbound",
            data={"From": "+14155552671", "To": "+15005550006", "Body": body},
        )
        assert response.status_code == 200

    inbound("  stop ")
    assert_twilio_error(api.send(To="+14155552671"), 400, 21610)
    assert api.send(To="+447400123456").status_code == 201  # other recipients unaffected
    inbound("START")
    assert api.send(To="+14155552671").status_code == 201


@pytest.mark.parametrize(("value", "body"), [("True", "'ok'"), ("FALSE", "\u2018ok\u2019")])
def test_smart_encoded_takes_any_letter_case(api, value, body):
    response = api.send(Body="\u2018ok\u2019", SmartEncoded=value)
    assert response.status_code == 201, response.text
    assert response.json()["body"] == body


@pytest.mark.parametrize("value", ["yes", "1", "on"])
def test_smart_encoded_other_values_are_20001(api, value):
    body = assert_twilio_error(api.send(SmartEncoded=value), 400, 20001)
    assert "SmartEncoded" in body["message"]
