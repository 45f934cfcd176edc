"""Twilio's own Python SDK works against the emulator, only the base URL differs."""

from __future__ import annotations

import pytest

twilio_rest = pytest.importorskip("twilio.rest")
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twiliocore import RequestValidator  # noqa: E402


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
