"""The auth token and SECRET_KEY never appear in logs, responses or the database."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from twiliocore import RequestValidator

SECRET_KEY = "capture-secret-key-0123456789abcdef"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))  # includes tracebacks


@pytest.fixture
def capture():
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def test_secrets_never_leak(capture, start_service, make_emulator, wait_for):
    twilio = make_emulator(phone_numbers=["+14155550100"])
    other = make_emulator()
    wrong_token = "e" * 32
    svc = start_service(
        SECRET_KEY=SECRET_KEY,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+14155550100",
        TWILIO_WHATSAPP_NUMBER="+14155238886",
        TWILIO_API_BASE_URL=twilio.url,
        SEND_RATE_LIMIT=10_000,
    )
    with svc.admin() as client:
        client.get("/api/health")
        client.get("/api/sms/settings")
        client.post("/api/sms/test-connection")
        sid = client.post(
            "/api/sms/send", json={"to_number": "+14155552671", "message": "hello"}
        ).json()["message_sid"]
        client.post("/api/sms/send", json={"to_number": "+15005550001", "message": "rejected"})
        client.post("/api/sms/send", json={"to_number": "+15005550010", "message": "undelivered"})
        client.post("/api/sms/whatsapp/send", json={"to_number": "+14155552671", "message": "wa"})
        job = client.post(
            "/api/sms/send-bulk",
            json={"phone_numbers": ["+14155550201", "+14155550202", "bad"], "message": "bulk"},
        ).json()["job_id"]
        wait_for(
            lambda: client.get(f"/api/sms/bulk/{job}").json()["status"] == "completed",
            what="the bulk job",
        )
        wait_for(
            lambda: client.get(f"/api/sms/message-status/{sid}").json()["status"] == "delivered",
            what="delivery",
        )
        # Inbound, signed with the token in force.
        httpx.post(
            f"{twilio.url}/_emulator/inbound",
            data={
                "From": "+14155550999",
                "To": "+14155550100",
                "Body": "STOP",
                "Url": svc.url + "/webhook/twilio/incoming",
            },
            auth=(twilio.account_sid, twilio.auth_token),
            trust_env=False,
            timeout=30,
        )
        # Bad signatures and bad bodies that carry the token.
        client.post(
            "/webhook/twilio/status",
            data={"MessageSid": sid, "MessageStatus": "failed"},
            headers={
                "X-Twilio-Signature": RequestValidator(wrong_token).compute_signature(
                    svc.url + "/webhook/twilio/status",
                    {"MessageSid": sid, "MessageStatus": "failed"},
                )
            },
        )
        client.post(
            "/api/sms/settings",
            json={"account_sid": "AC-bad", "auth_token": other.auth_token},
        )
        client.post(
            "/api/sms/settings",
            content=b'{"account_sid": "'
            + other.account_sid.encode()
            + b'", "auth_token": "'
            + other.auth_token.encode(),
            headers={"Content-Type": "application/json"},
        )
        client.post(
            "/api/sms/settings",
            json={"account_sid": other.account_sid, "auth_token": other.auth_token, "x": 1},
        )
        # Valid settings to another account, then a wrong token: test both connections.
        client.post(
            "/api/sms/settings",
            json={"account_sid": other.account_sid, "auth_token": other.auth_token},
        )
        client.get("/api/sms/settings")
        client.post("/api/sms/test-connection")
        # The wrong token refused by Twilio's check, then stored unverified and in force.
        client.post(
            "/api/sms/settings", json={"account_sid": other.account_sid, "auth_token": wrong_token}
        )
        client.post(
            "/api/sms/settings",
            json={"account_sid": other.account_sid, "auth_token": wrong_token, "verify": False},
        )
        client.get("/api/sms/settings")
        client.post("/api/sms/test-connection")
        client.get("/api/health")
        client.post("/api/sms/send", json={"to_number": "+14155552671", "message": "after"})
        client.get("/api/sms/messages", params={"limit": 500})
    secrets = {
        "env auth token": twilio.auth_token,
        "stored auth token": other.auth_token,
        "wrong auth token": wrong_token,
        "SECRET_KEY": SECRET_KEY,
    }
    logs = "\n".join(capture.records)
    answers = "\n".join(svc.responses)
    assert "twiliocore_api" in logs  # the capture did see the service
    assert len(svc.responses) > 20
    for name, secret in secrets.items():
        assert secret not in logs, f"{name} in the logs"
        assert secret not in answers, f"{name} in a response"
    db_path = Path(svc.settings.DATABASE_URL.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())
    for name, secret in secrets.items():
        assert secret.encode() not in stored, f"{name} in the database"
