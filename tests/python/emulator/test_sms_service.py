"""twiliocore's SMSService, pointed at the emulator by TWILIO_API_BASE_URL, sends for real."""

from __future__ import annotations

import time

import pytest

sms = pytest.importorskip("twiliocore.sms")


def wait_status(service, sid, statuses, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        status = service.get_message_status(sid)
        if status.get("status") in statuses or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_sms_service_sends_sms_and_whatsapp_through_the_emulator(fresh_emulator, monkeypatch):
    monkeypatch.setenv("TWILIO_API_BASE_URL", fresh_emulator.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fresh_emulator.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fresh_emulator.auth_token)
    monkeypatch.setenv("TWILIO_PHONE_NUMBER", "+15005550006")
    monkeypatch.setenv("TWILIO_WHATSAPP_NUMBER", "+14155238886")
    service = sms.SMSService()
    try:
        text = service.send_sms("+14155552671", "Your code is 123456")
        assert text["success"] is True, text
        chat = service.send_whatsapp("+14155552671", "Hola")
        assert chat["success"] is True, chat
        assert wait_status(service, text["message_sid"], {"delivered"})["status"] == "delivered"
        assert wait_status(service, chat["message_sid"], {"read"})["status"] == "read"
        failed = service.send_sms("+15005550001", "x")
        assert failed["success"] is False and failed["error_code"] == 21211
    finally:
        service.close()
    records = {m["sid"]: m for m in fresh_emulator.messages()}
    assert records[chat["message_sid"]]["from"] == "whatsapp:+14155238886"
    assert records[text["message_sid"]]["request_headers"]["user-agent"]
    assert len(records) == 2
