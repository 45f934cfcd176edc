"""notify (services/notify.py): channels by preference, and the shape of their results."""

from __future__ import annotations

import pytest
from twiliocore_api import crud
from twiliocore_api.services import notify


def _user(db, email, **prefs):
    user = crud.create_user(db, email=email, password="password-123", phone_number="+14155550401")
    return crud.update_preferences(db, user=user, **prefs)


def test_channel_outcome_shapes():
    assert notify.ChannelOutcome("in_app", success=True).to_dict() == {
        "channel": "in_app",
        "success": True,
    }
    assert notify.ChannelOutcome("sms", success=False, error="no phone_number set").to_dict() == {
        "channel": "sms",
        "success": False,
        "error": "no phone_number set",
    }
    assert notify.ChannelOutcome(
        "sms", success=True, attempted=True, message_sid="SM1", status="queued"
    ).to_dict() == {
        "channel": "sms",
        "success": True,
        "message_sid": "SM1",
        "status": "queued",
        "error": None,
    }


def test_notify_sends_by_preference_and_records_in_app(make_runtime, db):
    runtime = make_runtime(MESSAGING_USE_MOCK=True)
    user = _user(db, "both@example.com", whatsapp_enabled=True)
    notified = notify.notify(runtime, db, user_id=user.id, message="deploy done")
    assert [c["channel"] for c in notified.channels] == ["sms", "whatsapp", "in_app"]
    assert all(c["success"] for c in notified.channels)
    assert notified.to_dict()["user_id"] == user.id
    assert crud.list_notifications(db, user_id=user.id)[1] == 1
    assert {m["to"] for m in runtime.emulator.messages()} == {
        "+14155550401",
        "whatsapp:+14155550401",
    }


def test_notify_without_a_whatsapp_sender_says_so(make_runtime, make_emulator, db):
    twilio = make_emulator()
    runtime = make_runtime(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
    )
    user = _user(db, "nowa@example.com", sms_enabled=False, whatsapp_enabled=True)
    notified = notify.notify(runtime, db, user_id=user.id, message="x")
    assert notified.channels[0]["channel"] == "whatsapp"
    assert notified.channels[0]["success"] is False
    assert "no WhatsApp sender" in notified.channels[0]["error"]


@pytest.mark.parametrize(
    ("user_id", "message", "error"), [(0, "x", ValueError), (99, "x", LookupError)]
)
def test_notify_refuses_bad_arguments(make_runtime, db, user_id, message, error):
    runtime = make_runtime(MESSAGING_USE_MOCK=True)
    with pytest.raises(error, match="user_id"):
        notify.notify(runtime, db, user_id=user_id, message=message)
