"""Single sends (services/sends.py) against a real emulator, without HTTP."""

from __future__ import annotations

import logging

import pytest
from twiliocore_api import crud
from twiliocore_api.services import sends


def _send(runtime, db, to, **kwargs):
    return sends.send(runtime, db, user_id=None, kind="sms", to_number=to, body="hi", **kwargs)


def test_an_accepted_send_records_the_sid_and_status(live_runtime, db):
    row, outcome = _send(live_runtime, db, "+14155552671")
    assert outcome.success is True
    assert outcome.message_sid.startswith("SM")
    assert outcome.message_sid == row.message_sid
    assert outcome.status == row.status == "queued"
    assert (outcome.to, outcome.from_, outcome.type) == ("+14155552671", "+15005550006", "sms")
    assert outcome.num_segments == 1
    assert outcome.error is None and outcome.error_code is None
    (sent,) = [m for m in live_runtime.twilio.messages() if m["sid"] == outcome.message_sid]
    assert sent["status_callback"] == live_runtime.status_callback_url


def test_twilio_refusing_a_send_is_a_failed_outcome_with_its_code(live_runtime, db):
    row, outcome = _send(live_runtime, db, "+15005550001")  # Twilio's magic invalid To
    assert outcome.success is False
    assert (outcome.status, outcome.error_code) == ("failed", 21211)
    assert outcome.error
    assert row.message_sid is None
    assert crud.list_messages(db, user_id=None)[1] == 1


def test_twilio_reporting_an_opt_out_makes_the_send_refused(live_runtime, db):
    _row, outcome = _send(live_runtime, db, "+15005550004")  # 21610 at Twilio
    assert (outcome.success, outcome.status, outcome.error_code) == (False, "refused", 21610)
    assert "opted out" in outcome.error


def test_an_opted_out_recipient_is_refused_without_a_request(live_runtime, db):
    crud.set_opt_out(db, phone_number="+14155550999", opted_out=True, keyword="STOP")
    db.commit()
    row, outcome = _send(live_runtime, db, "+14155550999")
    assert (outcome.status, outcome.error_code) == ("refused", sends.OPTED_OUT_CODE)
    assert row.id is not None
    assert not [m for m in live_runtime.twilio.messages() if m["to"] == "+14155550999"]


def test_an_unreachable_twilio_is_a_failed_outcome_not_an_exception(
    make_runtime, db, unused_port, caplog
):
    runtime = make_runtime(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token-never-in-a-message",
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{unused_port}",
    )
    with caplog.at_level(logging.DEBUG):
        row, outcome = _send(runtime, db, "+14155552671")
    assert (outcome.success, outcome.status, row.status) == (False, "failed", "failed")
    assert outcome.error
    assert "token-never-in-a-message" not in outcome.error
    assert "token-never-in-a-message" not in caplog.text


def test_whatsapp_goes_from_the_whatsapp_sender(make_runtime, db):
    runtime = make_runtime(MESSAGING_USE_MOCK=True)
    _row, outcome = sends.send(
        runtime, db, user_id=None, kind="whatsapp", to_number="+14155552671", body="hola"
    )
    assert outcome.success is True
    assert (outcome.type, outcome.to, outcome.from_) == ("whatsapp", "+14155552671", "+14155238886")
    (sent,) = [m for m in runtime.emulator.messages() if m["sid"] == outcome.message_sid]
    assert (sent["to"], sent["from"]) == ("whatsapp:+14155552671", "whatsapp:+14155238886")


def test_a_status_event_that_beat_the_answer_is_applied_at_once(live_runtime, db, monkeypatch):
    # The callback is stored while the create request is in flight (before the SID is).
    real_create = type(live_runtime.client().messages).create

    def create_then_callback(self, **kwargs):
        created = real_create(self, **kwargs)
        with live_runtime.session_factory() as other:
            crud.add_status_event(
                other, message_sid=created.sid, status="delivered", error_code=None
            )
            other.commit()
        return created

    monkeypatch.setattr(type(live_runtime.client().messages), "create", create_then_callback)
    row, outcome = _send(live_runtime, db, "+14155552671")
    assert outcome.success is True
    assert row.status == outcome.status == "delivered"


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (dict(error_code=21211), "21211"),
        (dict(error_code=None, error="cannot reach Twilio"), "cannot reach Twilio"),
        (dict(status="unknown", error="lost"), "lost"),
    ],
)
def test_record_failure(db, outbound, failure, words):
    message = outbound(db, sid=None, status="pending")
    sends.record_failure(message, **failure)
    assert message.status == ("unknown" if failure.get("status") == "unknown" else "failed")
    assert words in message.error


def test_record_accepted_strips_the_channel_and_never_moves_back(db, outbound):
    message = outbound(db, sid=None, status="pending")
    sends.record_accepted(
        message,
        message_sid="SM" + "9" * 32,
        status="queued",
        num_segments=2,
        from_address="whatsapp:+14155238886",
    )
    assert (message.status, message.num_segments, message.from_number) == (
        "queued",
        2,
        "+14155238886",
    )
    # Accepted is not sent: sent_at waits for Twilio to report "sent".
    assert message.sent_at is None
    sends.record_accepted(
        message, message_sid="SM" + "9" * 32, status="sent", num_segments=2, from_address=None
    )
    assert message.status == "sent"
    assert message.sent_at is not None
