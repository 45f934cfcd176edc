"""The request body limit: a body over it is a 413 naming the body, before it is read."""

from __future__ import annotations

import json
from collections.abc import Iterator

from twiliocore_api.core.config import BULK_BYTES_PER_NUMBER, Settings


def test_default_limit_admits_the_largest_bulk_request(monkeypatch):
    for name in ("MAX_REQUEST_BYTES", "MAX_BULK_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.request_byte_limit == settings.MAX_REQUEST_BYTES == 4 * 1024 * 1024
    # Every number at its 64-character limit, every character escaped (\u00e9), the message
    # at its 1600-character limit, escaped too.
    number = "\u00e9" * 64
    largest = json.dumps(
        {
            "phone_numbers": [number] * settings.MAX_BULK_RECIPIENTS,
            "message": "\u00e9" * 1600,
            "from_number": "+15005550006",
        }
    ).encode()
    assert len(json.dumps(number)) + 2 == BULK_BYTES_PER_NUMBER  # quotes, then ", "
    assert len(largest) <= settings.request_byte_limit


def test_raising_the_recipient_limit_raises_the_body_limit():
    settings = Settings(_env_file=None, MAX_BULK_RECIPIENTS=100_000)
    assert settings.request_byte_limit > 100_000 * BULK_BYTES_PER_NUMBER
    assert Settings(_env_file=None, MAX_REQUEST_BYTES=50_000_000).request_byte_limit == 50_000_000


def _limited(start_service):
    # The smallest limit the settings allow: one recipient per bulk request.
    svc = start_service(MAX_BULK_RECIPIENTS=1, MAX_REQUEST_BYTES=1024)
    return svc, svc.settings.request_byte_limit


def _assert_too_large(answer, limit):
    assert answer.status_code == 413, answer.text
    assert answer.json() == {
        "detail": [
            {
                "loc": ["body"],
                "field": "body",
                "msg": f"request body too large: more than {limit} bytes",
                "type": "too_large",
            }
        ]
    }


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(start_service):
    svc, limit = _limited(start_service)
    body = json.dumps({"to_number": "+14155550101", "message": "x" * limit}).encode()
    with svc.client() as client:
        # Not even signed in: the limit comes first.
        _assert_too_large(client.post("/api/sms/send", content=body), limit)
    with svc.admin() as client:
        _assert_too_large(
            client.post(
                "/api/sms/send", content=body, headers={"Content-Type": "application/json"}
            ),
            limit,
        )
        # The service goes on, and a request within the limit is read.
        answer = client.post("/api/sms/send", json={"to_number": "+14155550101", "message": "hi"})
        assert answer.status_code == 201, answer.text


def test_a_chunked_body_is_refused_once_it_passes_the_limit(start_service):
    svc, limit = _limited(start_service)

    def chunks() -> Iterator[bytes]:
        yield b'{"to_number": "+14155550101", "message": "'
        for _ in range(64):
            yield b"x" * 4096
        yield b'"}'

    with svc.admin() as client:
        answer = client.post(
            "/api/sms/send", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _assert_too_large(answer, limit)
        assert "content-length" not in {k.lower() for k in answer.request.headers}
        history = client.get("/api/sms/messages").json()
        assert history["count"] == 0  # nothing was sent


def test_webhook_form_bodies_are_limited_too(start_service):
    svc, limit = _limited(start_service)
    with svc.client() as client:
        answer = client.post(
            "/webhook/twilio/incoming",
            content=b"Body=" + b"x" * (limit + 1),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    _assert_too_large(answer, limit)
