"""Twilio settings (admin): masked read, validated write, encrypted at rest, live at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SID_OK = "AC" + "0123456789abcdef" * 2


def _db_bytes(service) -> bytes:
    path = Path(service.settings.DATABASE_URL.removeprefix("sqlite:///"))
    data = b""
    for candidate in (path, Path(f"{path}-wal")):
        if candidate.exists():
            data += candidate.read_bytes()
    return data


def test_mock_mode_settings_are_masked(service):
    with service.admin() as client:
        body = client.get("/api/sms/settings").json()
    assert body["mode"] == "mock"
    assert body["configured"] is False
    assert body["source"] == "emulator"
    assert body["account_sid"] == service.emulator.account_sid
    assert body["phone_number"] == "+15005550006"
    assert body["whatsapp_number"] == "+14155238886"
    assert service.emulator.auth_token not in str(body)
    assert body["auth_token_masked"].startswith("********")
    assert "auth_token" not in body


def test_settings_are_validated(service):
    good = {"account_sid": SID_OK, "auth_token": "f" * 32, "phone_number": "+14155552671"}
    cases = {
        "account_sid": {**good, "account_sid": "AC123"},
        "auth_token": {**good, "auth_token": ""},
        "phone_number": {**good, "phone_number": "555"},
        "whatsapp_number": {**good, "whatsapp_number": "whatsapp:+1"},
    }
    with service.admin() as client:
        for field, body in cases.items():
            answer = client.post("/api/sms/settings", json=body)
            assert answer.status_code == 422, field
            detail = answer.json()["detail"][0]
            assert detail["field"] == field
            assert detail["msg"]
            assert body["auth_token"] not in answer.text or not body["auth_token"]
        assert client.get("/api/sms/settings").json()["mode"] == "mock"


def test_stored_settings_take_effect_without_restart(start_service, make_emulator):
    twilio = make_emulator(phone_numbers=["+14155550100"])
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    with svc.admin() as client:
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
        answer = client.post(
            "/api/sms/settings",
            json={
                "account_sid": twilio.account_sid,
                "auth_token": twilio.auth_token,
                "phone_number": "(415) 555-0100",
                "whatsapp_number": "+14155238886",
            },
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["mode"] == "live"
        assert body["configured"] is True
        assert body["source"] == "database"
        assert body["phone_number"] == "+14155550100"
        assert twilio.auth_token not in answer.text

        test = client.post("/api/sms/test-connection").json()
        assert test["success"] is True
        assert test["mode"] == "live"
        assert test["status"] == "active"
        assert test["friendly_name"]

        sent = client.post("/api/sms/send", json={"to_number": "+14155552671", "message": "hi"})
        assert sent.status_code == 201, sent.text
        assert sent.json()["from"] == "+14155550100"
    assert [m["sid"] for m in twilio.messages()] == [sent.json()["message_sid"]]
    # The database holds the token only encrypted.
    assert twilio.auth_token.encode() not in _db_bytes(svc)
    with sqlite3.connect(svc.settings.DATABASE_URL.removeprefix("sqlite:///")) as db:
        (stored,) = db.execute("SELECT auth_token_encrypted FROM sms_settings").fetchone()
    assert stored.startswith("v1:")
    assert twilio.auth_token not in stored


def test_stored_settings_survive_a_restart(tmp_path, run_service, make_emulator):
    twilio = make_emulator()
    creds = {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token}
    with run_service(tmp_path, TWILIO_API_BASE_URL=twilio.url) as svc, svc.admin() as client:
        assert client.post("/api/sms/settings", json=creds).status_code == 200
    with run_service(tmp_path, TWILIO_API_BASE_URL=twilio.url) as svc, svc.admin() as client:
        body = client.get("/api/sms/settings").json()
        assert (body["mode"], body["source"]) == ("live", "database")
        assert client.post("/api/sms/test-connection").json()["success"] is True


def test_stored_settings_win_over_the_environment(start_service, make_emulator):
    env_twilio, stored_twilio = make_emulator(), make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=env_twilio.account_sid,
        TWILIO_AUTH_TOKEN=env_twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=env_twilio.url,
    )
    with svc.admin() as client:
        assert client.get("/api/sms/settings").json()["source"] == "environment"
        # Same base URL for both: the stored credentials must be the ones used (stored
        # unverified, so that the wrong token is in force).
        answer = client.post(
            "/api/sms/settings",
            json={
                "account_sid": stored_twilio.account_sid,
                "auth_token": "0" * 32,
                "verify": False,
            },
        )
        assert answer.json()["source"] == "database"
        test = client.post("/api/sms/test-connection").json()
    assert test["success"] is False
    assert test["error_code"] == 20003
    assert "authentication" in test["error"]


def test_test_connection_in_mock_mode(service):
    with service.admin() as client:
        body = client.post("/api/sms/test-connection").json()
    assert body["success"] is True
    assert body["mode"] == "mock"
    assert body["account_sid"] == service.emulator.account_sid
    assert body["status"] == "active"


def test_test_connection_reports_an_unreachable_twilio(start_service, unused_port):
    svc = start_service(
        TWILIO_ACCOUNT_SID=SID_OK,
        TWILIO_AUTH_TOKEN="0" * 32,
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{unused_port}",
    )
    with svc.admin() as client:
        body = client.post("/api/sms/test-connection").json()
        health = client.get("/api/health").json()
    assert body["success"] is False
    assert body["mode"] == "live"
    assert "cannot reach Twilio" in body["error"]
    assert health["status"] == "degraded"
    assert health["twilio_reachable"] is False


def test_settings_without_senders_refuse_sends_clearly(start_service, make_emulator):
    # Stored credentials without phone_number/whatsapp_number: nothing can be sent without
    # a sender, and the answer says so instead of blaming Twilio (502) or guessing (unknown).
    twilio = make_emulator()
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    creds = {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token}
    to = {"to_number": "+14155552671", "message": "hi"}
    bulk = {"phone_numbers": ["+14155552671"], "message": "hi"}
    with svc.admin() as client:
        assert client.post("/api/sms/settings", json=creds).status_code == 200

        sms = client.post("/api/sms/send", json=to)
        assert sms.status_code == 422, sms.text
        (detail,) = sms.json()["detail"]
        assert detail["field"] == "from_number"
        assert "no SMS sender is configured" in detail["msg"]
        for path, body, words in [
            ("/api/sms/whatsapp/send", to, "no WhatsApp sender"),
            ("/api/sms/send-bulk", bulk, "no SMS sender"),
            ("/api/sms/whatsapp/send-bulk", bulk, "no WhatsApp sender"),
        ]:
            answer = client.post(path, json=body)
            assert answer.status_code == 503, (path, answer.text)
            assert words in answer.json()["detail"], path
        prefs = {"sms_enabled": True, "whatsapp_enabled": True, "phone_number": "+14155552671"}
        assert client.put("/api/sms/preferences", json=prefs).status_code == 200
        note = client.post("/api/notifications", json={"user_id": 1, "message": "hi"}).json()
        errors = {c["channel"]: c.get("error") for c in note["channels"] if not c["success"]}
        assert "no SMS sender" in errors["sms"]
        assert "no WhatsApp sender" in errors["whatsapp"]
        assert client.get("/api/sms/messages").json()["count"] == 0

        with_sender = client.post("/api/sms/send", json={**to, "from_number": "+15005550006"})
        assert with_sender.status_code == 201, with_sender.text
    assert [m["sid"] for m in twilio.messages()] == [with_sender.json()["message_sid"]]
