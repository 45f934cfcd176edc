"""``POST /_emulator/inbound``: signed incoming-message webhooks with Twilio's parameters."""

from __future__ import annotations

import httpx
import pytest
from twiliocore import RequestValidator
from twiliocore.emulator import OwnedNumberSpec

from .spec import MESSAGE, assert_twilio_error, component, validate


def inbound(emulator, **params):
    return httpx.post(emulator.url + "/_emulator/inbound", data=params, timeout=10)


def test_inbound_sms_posts_a_signed_webhook_to_the_numbers_sms_url(
    make_emulator, api_for, webhook_receiver
):
    sms_url = webhook_receiver.url + "/sms?x=1"
    emulator = make_emulator(phone_numbers=[OwnedNumberSpec("+14155550100", sms_url=sms_url)])
    response = inbound(emulator, From="+447400123456", To="+14155550100", Body="Hello there")
    assert response.status_code == 200
    result = response.json()
    [request] = webhook_receiver.requests
    assert request.url == sms_url
    validator = RequestValidator(emulator.auth_token)
    assert validator.validate(request.url, request.params, request.headers["x-twilio-signature"])
    form = request.form
    sid = result["message"]["sid"]
    assert form["MessageSid"] == form["SmsSid"] == form["SmsMessageSid"] == sid
    assert form["AccountSid"] == emulator.account_sid
    assert (form["From"], form["To"], form["Body"]) == (
        "+447400123456",
        "+14155550100",
        "Hello there",
    )
    assert (form["NumMedia"], form["NumSegments"], form["SmsStatus"]) == ("0", "1", "received")
    assert form["ApiVersion"] == "2010-04-01"
    assert (form["FromCountry"], form["ToCountry"]) == ("GB", "US")
    assert request.headers["i-twilio-idempotency-token"]
    assert result["response"]["status"] == 200
    assert "<Response" in result["response"]["body"]
    # The message is recorded and visible through the Messages API.
    api = api_for(emulator)
    data = api.fetch(sid)
    validate(data, component(MESSAGE))
    assert (data["direction"], data["status"]) == ("inbound", "received")


def test_inbound_whatsapp_with_media_and_profile(make_emulator, webhook_receiver):
    emulator = make_emulator(sms_url=webhook_receiver.url + "/wa")
    response = httpx.post(
        emulator.url + "/_emulator/inbound",
        json={
            "From": "whatsapp:+447400123456",
            "To": "whatsapp:+14155238886",
            "Body": "photo",
            "MediaUrl": ["https://example.com/p.jpg"],
            "MediaContentType": ["image/png"],
            "ProfileName": "Ada",
        },
    )
    assert response.status_code == 200, response.text
    [request] = webhook_receiver.requests
    form = request.form
    assert form["ProfileName"] == "Ada"
    assert form["WaId"] == "447400123456"
    assert (form["NumMedia"], form["MediaUrl0"], form["MediaContentType0"]) == (
        "1",
        "https://example.com/p.jpg",
        "image/png",
    )
    assert form["MessageSid"].startswith("MM")
    validator = RequestValidator(emulator.auth_token)
    assert validator.validate(request.url, request.params, request.headers["x-twilio-signature"])


def test_url_in_the_call_overrides_and_get_method_signs_the_query(fresh_emulator, webhook_receiver):
    url = webhook_receiver.url + "/in"
    response = inbound(
        fresh_emulator, From="+447400123456", To="+15005550006", Body="hi", Url=url, Method="GET"
    )
    assert response.status_code == 200
    [request] = webhook_receiver.requests
    assert request.method == "GET"
    validator = RequestValidator(fresh_emulator.auth_token)
    assert validator.validate(request.url, {}, request.headers["x-twilio-signature"])
    assert dict(request.params)["Body"] == "hi"


def test_inbound_retries_with_a_stable_idempotency_token(make_emulator, webhook_receiver):
    emulator = make_emulator(sms_url=webhook_receiver.url + "/sms", callback_retry_delay=0.01)
    webhook_receiver.answers = [502, 500]
    result = inbound(emulator, From="+447400123456", To="+15005550006", Body="x").json()
    assert len(webhook_receiver.requests) == 3
    assert len({r.headers["i-twilio-idempotency-token"] for r in webhook_receiver.requests}) == 1
    assert [a["status"] for a in result["webhook"]["attempts"]] == [502, 500, 200]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"From": "+447400123456"}, 400, 21604),
        ({"To": "+15005550006"}, 400, 21603),
        ({"From": "+447400123456", "To": "+14155550999"}, 404, 20404),  # not our number
        ({"From": "+447400123456", "To": "+15005550006"}, 400, 21609),  # no SmsUrl
        ({"From": "whatsapp:+447400123456", "To": "+15005550006"}, 400, 21910),
        ({"From": "abc", "To": "+15005550006", "Url": "http://127.0.0.1:9/x"}, 400, 21212),
        # Arabic-Indic digits are not E.164 digits.
        (
            {"From": "+4\u0667400123456", "To": "+15005550006", "Url": "http://127.0.0.1:9/x"},
            400,
            21212,
        ),
    ],
)
def test_inbound_errors(fresh_emulator, params, status, code):
    assert_twilio_error(inbound(fresh_emulator, **params), status, code)


def test_inbound_bad_json(fresh_emulator):
    response = httpx.post(
        fresh_emulator.url + "/_emulator/inbound",
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert_twilio_error(response, 400, 20001)


def test_inbound_json_nested_too_deep_is_400(fresh_emulator):
    response = httpx.post(
        fresh_emulator.url + "/_emulator/inbound",
        content=b"[" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    assert_twilio_error(response, 400, 20001)


@pytest.mark.parametrize("url", ["http://[::1", "http://[nope]/sms", "http://user:pw@[::1/sms"])
def test_an_unreadable_url_is_a_failed_delivery_not_a_500(fresh_emulator, url):
    response = inbound(fresh_emulator, From="+447400123456", To="+15005550006", Body="x", Url=url)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["twiml"]["error"]["code"] == 11200
    attempts = result["webhook"]["attempts"]
    assert attempts and all(a["status"] is None and "ValueError" in a["error"] for a in attempts)
