"""notify_user: by preferences (SMS, WhatsApp) plus in-app; GET /api/notifications."""

from __future__ import annotations

import uuid

import pytest
from twiliocore_api.services.config import MessengerUnavailable
from twiliocore_api.services.notify import notify_user


def _user_id(service, token):
    with service.client(token) as client:
        return client.get("/api/users/me").json()["id"]


def test_notify_over_http_follows_preferences(service, wait_for):
    token = service.new_user("notify-http@example.com", phone_number="+14155550301")
    with service.client(token) as client:
        client.put("/api/sms/preferences", json={"whatsapp_enabled": True})
    user_id = _user_id(service, token)
    with service.admin() as admin:
        answer = admin.post(
            "/api/notifications", json={"user_id": user_id, "message": "Build 42 failed"}
        )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    channels = {c["channel"]: c for c in body["channels"]}
    assert set(channels) == {"sms", "whatsapp", "in_app"}
    assert channels["sms"]["success"] is True
    assert channels["sms"]["message_sid"].startswith("SM")
    assert channels["whatsapp"]["success"] is True
    emulated = {m["to"] for m in service.emulator.messages() if m["body"] == "Build 42 failed"}
    assert emulated == {"+14155550301", "whatsapp:+14155550301"}
    with service.client(token) as client:
        listed = client.get("/api/notifications").json()
        history = client.get("/api/sms/messages").json()
    assert listed["count"] == 1
    assert listed["data"][0]["message"] == "Build 42 failed"
    assert {m["type"] for m in history["data"]} == {"sms", "whatsapp"}


def test_notify_user_from_workflow_code(service):
    token = service.new_user("notify-code@example.com", phone_number="+14155550302")
    user_id = _user_id(service, token)
    result = notify_user(user_id, "Your report is ready", app=service.app)
    assert [c["channel"] for c in result["channels"]] == ["sms", "in_app"]
    assert result["channels"][0]["success"] is True
    with service.client(token) as client:
        assert (
            client.get("/api/notifications").json()["data"][0]["message"] == "Your report is ready"
        )


def test_notify_without_a_phone_number_is_in_app_only(service):
    token = service.new_user("notify-nophone@example.com")
    result = notify_user(_user_id(service, token), "hello", app=service.app)
    assert result["channels"][0] == {
        "channel": "sms",
        "success": False,
        "error": "no phone_number set",
    }
    assert result["channels"][-1] == {"channel": "in_app", "success": True}


def test_notify_skips_disabled_channels(service):
    token = service.new_user("notify-off@example.com", phone_number="+14155550303")
    with service.client(token) as client:
        client.put("/api/sms/preferences", json={"sms_enabled": False})
    result = notify_user(_user_id(service, token), "quiet", app=service.app)
    assert result["channels"] == [{"channel": "in_app", "success": True}]


def test_notify_validation(service):
    with service.admin() as admin:
        missing = admin.post("/api/notifications", json={"user_id": 999999, "message": "x"})
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["field"] == "user_id"
        empty = admin.post("/api/notifications", json={"user_id": 1, "message": ""})
        assert empty.json()["detail"][0]["field"] == "message"
    with pytest.raises(LookupError):
        notify_user(999999, "x", app=service.app)


@pytest.mark.parametrize("flag", [True, False])
def test_notify_user_id_true_or_false_is_a_422_not_user_1(service, flag):
    # Read as an integer, true would notify user 1 (the first admin).
    with service.admin() as admin:
        before = admin.get("/api/notifications").json()["count"]
        answer = admin.post("/api/notifications", json={"user_id": flag, "message": "switch"})
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "user_id"
        assert "not true or false" in detail["msg"]
        assert admin.get("/api/notifications").json()["count"] == before
    with pytest.raises(ValueError, match="user_id"):
        notify_user(flag, "switch", app=service.app)


def test_users_see_only_their_notifications(service):
    a = service.new_user("notify-a@example.com")
    b = service.new_user("notify-b@example.com")
    notify_user(_user_id(service, a), "for a", app=service.app)
    with service.client(b) as client:
        assert all(n["message"] != "for a" for n in client.get("/api/notifications").json()["data"])


def test_notify_user_finds_the_running_service(service, monkeypatch):
    import twiliocore_api.services.config as runtime_config

    token = service.new_user("notify-default@example.com")
    monkeypatch.setattr(runtime_config, "_running", [service.messenger])
    assert notify_user(_user_id(service, token), "default app")["channels"][-1]["success"]
    monkeypatch.setattr(runtime_config, "_running", [])
    with pytest.raises(MessengerUnavailable):
        notify_user(1, "x")


@pytest.mark.parametrize(
    ("user_id", "message", "words"),
    [
        (None, "x", "user_id"),
        (10**30, "x", "user_id"),
        ("user", "", "message"),
        ("user", "   ", "message"),
        ("user", "x" * 1601, "1600"),
        ("user", "a\x00b", "nul"),
        ("user", None, "message"),
    ],
)
def test_notify_user_refuses_bad_arguments_before_sending(service, user_id, message, words):
    token = service.new_user(f"notify-bad-{uuid.uuid4().hex[:8]}@example.com")
    with service.client(token) as client:
        client.put("/api/sms/preferences", json={"phone_number": "+14155550304"})
    if user_id == "user":
        user_id = _user_id(service, token)
    with pytest.raises(ValueError, match=f"(?i){words}"):
        notify_user(user_id, message, app=service.app)
    with service.client(token) as client:
        assert client.get("/api/sms/messages").json()["count"] == 0
        assert client.get("/api/notifications").json()["count"] == 0
