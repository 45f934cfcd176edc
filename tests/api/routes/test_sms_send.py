"""Single sends (SMS and WhatsApp) in mock mode: recorded, sent, updated by callbacks."""

from __future__ import annotations

import threading

import pytest
from twiliocore_api import crud


def _status(client, sid):
    answer = client.get(f"/api/sms/message-status/{sid}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_send_sms_is_delivered_through_status_callbacks(service, wait_for):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send", json={"to_number": "(415) 555-2671", "message": "Your code is 123456"}
        )
        assert answer.status_code == 201, answer.text
        sent = answer.json()
        assert sent["success"] is True
        assert sent["message_sid"].startswith("SM") and len(sent["message_sid"]) == 34
        assert sent["to"] == "+14155552671"
        assert sent["from"] == "+15005550006"
        assert sent["type"] == "sms"
        assert sent["num_segments"] == 1
        assert sent["status"] in ("queued", "sending", "sent", "delivered")
        sid = sent["message_sid"]
        # Callbacks, not polling, move it: the emulator's webhook log shows them accepted.
        wait_for(
            lambda: any(
                w["url"].endswith("/webhook/twilio/status")
                and dict(w["params"]).get("MessageSid") == sid
                and dict(w["params"]).get("MessageStatus") == "delivered"
                and w["attempts"]
                and w["attempts"][-1].get("status") == 204
                for w in service.emulator.webhooks()
            ),
            what="the delivered callback",
        )
        with service.messenger.session_factory() as db:
            assert crud.get_message_by_sid(db, message_sid=sid).status == "delivered"
        record = _status(client, sid)
    assert record["status"] == "delivered"
    assert record["direction"] == "outbound-api"
    assert record["body"] == "Your code is 123456"
    assert record["sent_at"] is not None
    assert record["delivered_at"] is not None
    assert record["error_code"] is None


def test_send_whatsapp_goes_from_the_whatsapp_sender(service, wait_for):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/whatsapp/send",
            json={
                "to_number": "+447400123456",
                "message": "Hello on WhatsApp",
                "media_url": "https://example.com/a.jpg",
            },
        )
        assert answer.status_code == 201, answer.text
        sent = answer.json()
        assert sent["type"] == "whatsapp"
        assert sent["to"] == "+447400123456"
        assert sent["from"] == "+14155238886"
        emulated = [m for m in service.emulator.messages() if m["sid"] == sent["message_sid"]]
        assert emulated[0]["to"] == "whatsapp:+447400123456"
        record = wait_for(
            lambda: (r := _status(client, sent["message_sid"]))["status"] == "read" and r,
            what="read",
        )
    assert record["type"] == "whatsapp"
    assert record["delivered_at"] is not None


def test_undelivered_message_records_the_error(service, wait_for):
    with service.admin() as client:
        sid = client.post(
            "/api/sms/send", json={"to_number": "+15005550010", "message": "unreachable"}
        ).json()["message_sid"]
        record = wait_for(
            lambda: (r := _status(client, sid))["status"] == "undelivered" and r,
            what="undelivered",
        )
    assert record["error_code"] == 30003
    assert "30003" in record["error"]
    assert record["delivered_at"] is None


def test_twilio_rejection_is_recorded_as_failed(service):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send", json={"to_number": "+15005550001", "message": "invalid per Twilio"}
        )
        assert answer.status_code == 400
        body = answer.json()
        assert body["success"] is False
        assert body["error_code"] == 21211
        assert body["status"] == "failed"
        assert body["message_sid"] is None
        history = client.get("/api/sms/messages", params={"to": "+15005550001"}).json()
    assert history["data"][0]["status"] == "failed"
    assert history["data"][0]["error_code"] == 21211


def test_opt_out_known_only_to_twilio_is_refused(service):
    # +15005550004 is Twilio's magic number for a recipient who opted out (21610): a send
    # to it is refused and recorded as refused, as for a STOP the service saw itself.
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send", json={"to_number": "+15005550004", "message": "opted out at Twilio"}
        )
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert (body["success"], body["status"], body["error_code"]) == (False, "refused", 21610)
        assert "opted out" in body["error"]
        history = client.get("/api/sms/messages", params={"to": "+15005550004"}).json()
    assert (history["data"][0]["status"], history["data"][0]["error_code"]) == ("refused", 21610)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"to_number": "12", "message": "x"}, "to_number", "not a valid phone number"),
        ({"to_number": "not a number", "message": "x"}, "to_number", "not a valid phone number"),
        ({"to_number": "", "message": "x"}, "to_number", "at least 1"),
        ({"to_number": "+14155552671", "message": ""}, "message", "at least 1"),
        ({"to_number": "+14155552671", "message": "  \n "}, "message", "empty"),
        ({"to_number": "+14155552671", "message": "x" * 1601}, "message", "at most 1600"),
        ({"to_number": "+14155552671"}, "message", "required"),
        ({"message": "x"}, "to_number", "required"),
        ({"to_number": "+14155552671", "message": 5}, "message", "string"),
        ({"to_number": "+14155552671", "message": "x", "extra": 1}, "extra", "not permitted"),
        ({"to_number": "+1415", "message": "x", "from_number": "abc"}, "to_number", "valid"),
        (
            {"to_number": "+14155552671", "message": "x", "from_number": "abc"},
            "from_number",
            "valid",
        ),
    ],
)
def test_send_validation_names_the_field(service, body, field, words):
    with service.admin() as client:
        answer = client.post("/api/sms/send", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail[0]["field"] == field
    assert words.lower() in detail[0]["msg"].lower()


@pytest.mark.parametrize(
    "raw",
    [b'{"to_number": "+14155552671", "message": ', b"not json", b"[1, 2]", b""],
)
def test_malformed_json_is_a_422(service, raw):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send", content=raw, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"][0]
    assert detail["field"] == "body"
    assert detail["msg"]


@pytest.mark.parametrize(
    ("raw", "content_type", "words"),
    [
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'"text"', "application/json", "must be a JSON object"),
        # `curl -d '{...}'` without -H 'Content-Type: application/json' sends a form.
        (
            b'{"to_number": "+14155552671", "message": "hi"}',
            "application/x-www-form-urlencoded",
            "Content-Type: application/json",
        ),
        (b'{"to_number": "+14155552671", "message": "hi"}', "text/plain", "got 'text/plain'"),
    ],
)
def test_body_that_is_not_a_json_object_says_what_is_expected(service, raw, content_type, words):
    with service.admin() as client:
        answer = client.post("/api/sms/send", content=raw, headers={"Content-Type": content_type})
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["detail"]
    assert detail["field"] == "body"
    assert words in detail["msg"]


def test_whatsapp_validation(service):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/whatsapp/send",
            json={"to_number": "+14155552671", "message": "x", "media_url": "ftp://x"},
        )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "media_url"


# Each passes the https?://non-space pattern, but Twilio could never fetch from it.
UNFETCHABLE_MEDIA_URLS = [
    ("http://[::1/a.png", "host cannot be parsed"),
    ("https://user:pw@[fe80::1/a.png", "host cannot be parsed"),
    ("http://:8080/a.png", "no host"),
    ("https://example.com:99999999/a.png", "port"),
    ("https://example.com:abc/a.png", "port"),
    ("https://example.com/a\x7f.png", "control characters"),
]


@pytest.mark.parametrize(("media_url", "words"), UNFETCHABLE_MEDIA_URLS)
def test_whatsapp_media_url_that_is_not_a_url_is_a_422(service, media_url, words):
    to = "+14155550270"
    with service.admin() as client:
        answer = client.post(
            "/api/sms/whatsapp/send",
            json={"to_number": to, "message": "media", "media_url": media_url},
        )
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "media_url"
        assert words in detail["msg"]
        assert media_url not in answer.text
        assert client.get("/api/sms/messages", params={"to": to}).json()["count"] == 0


def test_message_is_recorded_before_it_is_sent(start_service, make_emulator, wait_for):
    # Every create answers after 3 s: the record must exist while the request is in flight.
    twilio = make_emulator(faults={"slow": 1.0, "slow_seconds": 3.0})
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
    )
    token = svc.login()
    result: dict = {}

    def send() -> None:
        with svc.client(token) as client:
            result["answer"] = client.post(
                "/api/sms/send", json={"to_number": "+14155552671", "message": "slow"}
            )

    sender = threading.Thread(target=send)
    sender.start()
    with svc.client(token) as client:
        pending = wait_for(
            lambda: client.get("/api/sms/messages").json()["data"], what="the pending record"
        )
    sender.join(30)
    assert pending[0]["status"] == "pending"
    assert pending[0]["message_sid"] is None
    assert result["answer"].status_code == 201
    with svc.client(token) as client:
        after = client.get("/api/sms/messages").json()["data"]
    assert after[0]["id"] == pending[0]["id"]
    assert after[0]["message_sid"] == result["answer"].json()["message_sid"]


def test_send_routes_are_rate_limited_per_user(start_service):
    svc = start_service(SEND_RATE_LIMIT=2, SEND_RATE_WINDOW_SECONDS=3600)
    other = svc.new_user("other@example.com")
    body = {"to_number": "+14155552671", "message": "hi"}
    with svc.admin() as client:
        assert client.post("/api/sms/send", json=body).status_code == 201
        assert client.post("/api/sms/whatsapp/send", json=body).status_code == 201
        limited = client.post("/api/sms/send", json=body)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 3600
        bulk = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": ["+14155552671"], "message": "x"}
        )
        assert bulk.status_code == 429
        # Reading is not limited.
        assert client.get("/api/sms/messages").status_code == 200
    with svc.client(other) as client:
        assert client.post("/api/sms/send", json=body).status_code == 201


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"to_number": "+14155552671", "message": "\xff\xfe caf\xe9"}', "utf-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"to_number": 1' + b"0" * 5000 + b', "message": "x"}', "digits"),
    ],
)
def test_undecodable_json_is_a_422_naming_the_body(service, raw, words):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send", content=raw, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"][0]
    assert detail["field"] == "body"
    assert "malformed json" in detail["msg"].lower()
    assert words in detail["msg"].lower()
