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


# ---------------------------------------------------------------------------- every field at once


def test_every_invalid_field_is_reported_in_one_answer(service):
    body = {
        "account_sid": "AC123",
        "auth_token": "short",
        "phone_number": "555",
        "whatsapp_number": "whatsapp:+1",
        "verify": "no",
    }
    with service.admin() as client:
        answer = client.post("/api/sms/settings", json=body)
        assert answer.status_code == 422
        detail = answer.json()["detail"]
        assert sorted(d["field"] for d in detail) == [
            "account_sid",
            "auth_token",
            "phone_number",
            "verify",
            "whatsapp_number",
        ]
        assert all(d["msg"] for d in detail)
        numbers = {d["field"]: d["msg"] for d in detail if d["field"].endswith("number")}
        assert all(msg.startswith("not a valid phone number") for msg in numbers.values())
        # A number is checked even when every other field is right.
        one = client.post(
            "/api/sms/settings",
            json={"account_sid": SID_OK, "auth_token": "f" * 32, "whatsapp_number": "12"},
        )
        assert [d["field"] for d in one.json()["detail"]] == ["whatsapp_number"]
        for not_an_object in ([1, 2], "text"):
            answer = client.post("/api/sms/settings", json=not_an_object)
            assert answer.status_code == 422
            assert answer.json()["detail"][0]["msg"].startswith("must be a JSON object")
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
    assert "short" not in answer.text


# ---------------------------------------------------------------------------- checked with Twilio


def _post_logged(client, caplog, body):
    import logging

    with caplog.at_level(logging.DEBUG):
        return client.post("/api/sms/settings", json=body)


def test_a_wrong_token_is_refused_with_twilios_answer(start_service, make_emulator, caplog):
    twilio = make_emulator()
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    wrong = "f" * 32
    with svc.admin() as client:
        answer = _post_logged(
            client, caplog, {"account_sid": twilio.account_sid, "auth_token": wrong}
        )
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "auth_token"
        assert (detail["twilio_status"], detail["twilio_code"]) == (401, 20003)
        assert "Authentication Error" in detail["msg"]
        assert "20003" in detail["msg"]
        assert "nothing was stored" in detail["msg"]
        # Nothing changed: still mock mode, nothing in the database.
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
    assert twilio.auth_token not in answer.text
    assert wrong not in answer.text
    assert wrong not in caplog.text
    assert wrong.encode() not in _db_bytes(svc)


def test_another_accounts_sid_is_refused(start_service, make_emulator):
    twilio, other = make_emulator(), make_emulator()
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    with svc.admin() as client:
        answer = client.post(
            "/api/sms/settings",
            json={"account_sid": other.account_sid, "auth_token": twilio.auth_token},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["twilio_code"] == 20003
        assert client.get("/api/sms/settings").json()["source"] == "emulator"


def test_verified_credentials_are_stored_and_nothing_secret_is_logged(
    start_service, make_emulator, caplog
):
    twilio = make_emulator()
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    with svc.admin() as client:
        answer = _post_logged(
            client,
            caplog,
            {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token, "verify": True},
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["source"], answer.json()["mode"]) == ("database", "live")
    assert "Twilio settings updated" in caplog.text
    assert twilio.auth_token not in caplog.text
    assert twilio.auth_token not in answer.text


def test_an_unreachable_twilio_is_a_502_naming_its_url(start_service, unused_port, caplog):
    base = f"http://127.0.0.1:{unused_port}"
    svc = start_service(TWILIO_API_BASE_URL=base)
    token = "e" * 32
    with svc.admin() as client:
        answer = _post_logged(client, caplog, {"account_sid": SID_OK, "auth_token": token})
        assert answer.status_code == 502, answer.text
        detail = answer.json()["detail"]
        assert f"cannot reach Twilio at {base}" in detail
        assert "verify" in detail
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
        # Opting out stores them all the same.
        unchecked = _post_logged(
            client, caplog, {"account_sid": SID_OK, "auth_token": token, "verify": False}
        )
        assert unchecked.status_code == 200, unchecked.text
        assert unchecked.json()["source"] == "database"
    assert token not in answer.text + unchecked.text
    assert token not in caplog.text


def test_twilio_failing_is_a_502_with_its_answer(start_service, make_emulator):
    twilio = make_emulator(faults="503=1")
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    creds = {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token}
    with svc.admin() as client:
        answer = client.post("/api/sms/settings", json=creds)
        assert answer.status_code == 502, answer.text
        detail = answer.json()["detail"]
        assert f"Twilio at {twilio.url}" in detail
        assert "HTTP 503, error 20503" in detail
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
    assert twilio.auth_token not in answer.text


# ---------------------------------------------------------------------------- removing them


def test_removing_settings_returns_to_mock_mode_without_restart(start_service, make_emulator):
    twilio = make_emulator()
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    creds = {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token}
    to = {"to_number": "+14155552671", "message": "hi"}
    with svc.admin() as client:
        assert client.post("/api/sms/settings", json=creds).json()["mode"] == "live"
        removed = client.delete("/api/sms/settings")
        assert removed.status_code == 200, removed.text
        body = removed.json()
        assert body == client.get("/api/sms/settings").json()
        assert (body["mode"], body["source"], body["configured"]) == ("mock", "emulator", False)
        assert body["account_sid"] == svc.emulator.account_sid
        assert twilio.auth_token not in removed.text
        sent = client.post("/api/sms/send", json=to)
        assert sent.status_code == 201, sent.text
        # Removing nothing is not an error: the answer is the configuration in force.
        again = client.delete("/api/sms/settings")
        assert again.status_code == 200
        assert again.json() == body
    assert twilio.messages() == []
    assert sent.json()["message_sid"] in [m["sid"] for m in svc.emulator.messages()]
    with sqlite3.connect(svc.settings.DATABASE_URL.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT count(*) FROM sms_settings").fetchone() == (0,)


def test_removing_settings_returns_to_the_environment(start_service, make_emulator):
    env_twilio, stored_twilio = make_emulator(), make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=env_twilio.account_sid,
        TWILIO_AUTH_TOKEN=env_twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=env_twilio.url,
    )
    with svc.admin() as client:
        stored = client.post(
            "/api/sms/settings",
            json={
                "account_sid": stored_twilio.account_sid,
                "auth_token": stored_twilio.auth_token,
                "verify": False,
            },
        ).json()
        assert (stored["source"], stored["account_sid"]) == ("database", stored_twilio.account_sid)
        body = client.delete("/api/sms/settings").json()
        assert (body["source"], body["mode"]) == ("environment", "live")
        assert body["account_sid"] == env_twilio.account_sid
        assert body["phone_number"] == "+15005550006"
        assert client.post("/api/sms/test-connection").json()["success"] is True
        sent = client.post("/api/sms/send", json={"to_number": "+14155552671", "message": "hi"})
        assert sent.status_code == 201, sent.text
    assert [m["sid"] for m in env_twilio.messages()] == [sent.json()["message_sid"]]


def test_an_unknown_or_inactive_account_is_blamed_on_account_sid(start_service, webhook_receiver):
    # A scripted Twilio: what the emulator cannot answer (404 for the account, a suspended one).
    import base64
    import json

    twilio = webhook_receiver
    twilio.content_type = "application/json"
    svc = start_service(TWILIO_API_BASE_URL=twilio.url)
    token = "d" * 32
    creds = {"account_sid": SID_OK, "auth_token": token}
    account_path = f"/2010-04-01/Accounts/{SID_OK}.json"
    not_found = {"code": 20404, "message": "The requested resource was not found", "status": 404}
    twilio.bodies[account_path] = json.dumps(not_found).encode()
    twilio.answers.append(404)
    with svc.admin() as client:
        answer = client.post("/api/sms/settings", json=creds)
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "account_sid"
        assert (detail["twilio_status"], detail["twilio_code"]) == (404, 20404)
        assert "The requested resource was not found" in detail["msg"]

        twilio.bodies[account_path] = json.dumps(
            {"sid": SID_OK, "status": "suspended", "friendly_name": "x"}
        ).encode()
        suspended = client.post("/api/sms/settings", json=creds)
        assert suspended.status_code == 422, suspended.text
        (detail,) = suspended.json()["detail"]
        assert detail["field"] == "account_sid"
        assert "the account is suspended" in detail["msg"]
        assert client.get("/api/sms/settings").json()["mode"] == "mock"
    # The check asked for the given account with the given credentials.
    (first, second) = twilio.requests
    assert first.method == "GET"
    assert first.path == account_path
    expected = base64.b64encode(f"{SID_OK}:{token}".encode()).decode()
    assert first.headers["authorization"] == f"Basic {expected}"
    assert second.headers["authorization"] == first.headers["authorization"]
    assert token not in answer.text + suspended.text
