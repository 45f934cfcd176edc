"""Inspection endpoints: messages with headers, webhooks, numbers, account status, reset."""

from __future__ import annotations

import httpx

from .spec import assert_twilio_error


def test_messages_list_every_accepted_message_with_headers(api):
    for token in ("tok-a", "tok-b"):
        api.http.post(
            api.messages,
            data={"To": "+14155552671", "From": "+15005550006", "Body": token},
            headers={"I-Twilio-Idempotency-Token": token, "User-Agent": "probe/1"},
        )
    api.send(To="+15005550001")  # rejected: not listed
    data = httpx.get(api.emulator.url + "/_emulator/messages").json()
    assert data["count"] == 2
    assert [m["request_headers"]["i-twilio-idempotency-token"] for m in data["messages"]] == [
        "tok-a",
        "tok-b",
    ]
    assert all(m["request_headers"]["user-agent"] == "probe/1" for m in data["messages"])
    filtered = httpx.get(api.emulator.url + "/_emulator/messages", params={"to": "+1"}).json()
    assert filtered["count"] == 0


def test_numbers_can_be_added_at_runtime(api):
    url = api.emulator.url + "/_emulator/numbers"
    response = httpx.post(url, data={"PhoneNumber": "+14155550123", "SmsUrl": "http://x.test/s"})
    assert response.status_code == 201
    assert response.json()["sid"].startswith("PN")
    assert api.send(From="+14155550123").status_code == 201
    numbers = [n["phone_number"] for n in httpx.get(url).json()["numbers"]]
    assert "+14155550123" in numbers and "+15005550006" in numbers
    assert_twilio_error(httpx.post(url, data={"PhoneNumber": "bad!"}), 400, 21421)
    # Arabic-Indic digits are not E.164 digits.
    arabic = {"PhoneNumber": "+1\u0664\u0661\u06655550123"}
    assert_twilio_error(httpx.post(url, data=arabic), 400, 21421)


def test_reset_clears_messages_webhooks_queues_and_added_numbers(make_emulator, api_for):
    emulator = make_emulator(mps=0.1, queue_cap_seconds=15)
    api = api_for(emulator)
    httpx.post(emulator.url + "/_emulator/numbers", data={"PhoneNumber": "+14155550123"})
    assert api.send().status_code == 201
    assert_twilio_error(api.send(), 400, 21611)
    assert httpx.post(emulator.url + "/_emulator/reset").json() == {"reset": True}
    assert emulator.messages() == [] and emulator.webhooks() == []
    assert api.send().status_code == 201  # queue emptied
    assert_twilio_error(api.send(From="+14155550123"), 400, 21606)


def test_control_paths_do_not_need_auth_and_unknown_ones_are_404(fresh_emulator):
    assert httpx.get(fresh_emulator.url + "/_emulator/health").status_code == 200
    assert_twilio_error(httpx.get(fresh_emulator.url + "/_emulator/nope"), 404, 20404)


def test_a_suspended_account_is_refused_until_active_again_or_reset(api):
    url = api.emulator.url + "/_emulator/account"
    assert httpx.get(url).json()["status"] == "active"
    assert api.send().status_code == 201
    assert httpx.post(url, data={"Status": "suspended"}).json()["status"] == "suspended"
    refused = api.send()
    assert_twilio_error(refused, 401, 20003)
    assert "suspended" in refused.json()["message"]
    assert len(api.emulator.messages()) == 1  # nothing created while suspended
    assert httpx.post(url, data={"Status": "active"}).json()["status"] == "active"
    assert api.send().status_code == 201
    httpx.post(url, data={"Status": "closed"})
    assert_twilio_error(api.send(), 401, 20003)
    httpx.post(api.emulator.url + "/_emulator/reset")
    assert api.send().status_code == 201  # reset makes the account active again
    assert_twilio_error(httpx.post(url, data={"Status": "gone"}), 400, 20001)
