"""The inbound pipeline (services/inbound/): parsing, storing first, handlers, duplicates."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from twiliocore import RequestValidator
from twiliocore_api import crud
from twiliocore_api.models import Message, StatusEvent
from twiliocore_api.services.inbound import (
    InboundMessage,
    InboundPipeline,
    InvalidWebhook,
    StatusUpdate,
    default_pipeline,
    parse_inbound,
    parse_status,
    track_delivery,
)

SID = "SM" + "7" * 32


def _inbound(body="hello", sid=SID, sender="+14155550123", **extra):
    return parse_inbound(
        {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, **extra}
    )


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------- parsing


def test_parse_inbound_whatsapp_with_media():
    event = parse_inbound(
        {
            "MessageSid": "MM" + "1" * 32,
            "AccountSid": "AC" + "0" * 32,
            "From": "whatsapp:+14155550123",
            "To": "whatsapp:+14155238886",
            "Body": "look",
            "NumMedia": "2",
            "MediaUrl0": "https://example.com/a.jpg",
            "MediaContentType0": "image/jpeg",
            "MediaUrl1": "https://example.com/b.png",
            "MediaContentType1": "image/png",
            "ProfileName": "Ada",
            "WaId": "14155550123",
            "NumSegments": "1",
        }
    )
    assert (event.channel, event.from_, event.to) == ("whatsapp", "+14155550123", "+14155238886")
    assert event.from_address == "whatsapp:+14155550123"
    assert event.to_address == "whatsapp:+14155238886"
    assert event.media_urls == ("https://example.com/a.jpg", "https://example.com/b.png")
    assert event.media_content_types == ("image/jpeg", "image/png")
    assert (event.num_media, event.num_segments) == (2, 1)
    assert (event.profile_name, event.wa_id) == ("Ada", "14155550123")
    assert event.params["Body"] == "look"


def test_parse_inbound_sms_and_the_old_sid_name():
    event = parse_inbound({"SmsMessageSid": SID, "From": "+14155550123", "To": "+15005550006"})
    assert (event.message_sid, event.channel, event.body, event.media_urls) == (SID, "sms", "", ())
    assert event.from_address == "+14155550123"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"MessageSid": "SM" + "x" * 40, "From": "+1", "To": "+2"}, "MessageSid"),
        ({"MessageSid": SID, "From": "+1" * 40, "To": "+2"}, "From or To"),
    ],
)
def test_parse_inbound_refuses_what_twilio_never_sends(params, words):
    with pytest.raises(InvalidWebhook, match=words):
        parse_inbound(params)


def test_parse_status():
    event = parse_status(
        {"SmsSid": SID, "SmsStatus": "DELIVERED", "ErrorCode": "9" * 30, "To": "whatsapp:+1415"}
    )
    assert (event.message_sid, event.message_status, event.error_code) == (SID, "delivered", None)
    assert event.channel == "whatsapp"
    assert (
        parse_status(
            {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "30003"}
        ).error_code
        == 30003
    )


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"MessageSid": SID}, "needed"),
        ({"MessageStatus": "sent"}, "needed"),
        ({"MessageSid": SID, "MessageStatus": "s" * 30}, "not one of Twilio's"),
    ],
)
def test_parse_status_refuses_what_twilio_never_sends(params, words):
    with pytest.raises(InvalidWebhook, match=words):
        parse_status(params)


# ---------------------------------------------------------------------------- registration


def test_the_default_pipeline_runs_opt_out_then_delivery_tracking():
    pipeline = default_pipeline()
    assert pipeline.handlers(InboundMessage) == ["opt-out keywords"]
    assert pipeline.handlers(StatusUpdate) == ["delivery tracking"]


def test_handlers_run_in_registration_order_per_event_type(db):
    calls: list[str] = []
    pipeline = InboundPipeline()
    for label in ("first", "second", "third"):
        pipeline.register(InboundMessage, lambda s, e, label=label: calls.append(label), name=label)
    pipeline.register(StatusUpdate, lambda s, e: calls.append("status"), name="status")
    assert pipeline.handlers(InboundMessage) == ["first", "second", "third"]
    receipt = pipeline.receive(db, _inbound())
    assert (receipt.duplicate, receipt.failed) == (False, ())
    assert calls == ["first", "second", "third"]
    pipeline.receive(db, parse_status({"MessageSid": SID, "MessageStatus": "sent"}))
    assert calls[-1] == "status"


def test_a_handler_is_named_after_its_function_by_default():
    def extract_code(session, event):
        return None

    pipeline = InboundPipeline()
    pipeline.register(InboundMessage, extract_code)
    assert pipeline.handlers(InboundMessage) == [extract_code.__qualname__]


def test_registration_refuses_unknown_kinds_and_repeated_names():
    pipeline = InboundPipeline()
    with pytest.raises(TypeError, match="kind"):
        pipeline.register(dict, lambda s, e: None)  # type: ignore[arg-type]
    pipeline.register(InboundMessage, lambda s, e: None, name="inbox")
    with pytest.raises(ValueError, match="inbox"):
        pipeline.register(InboundMessage, lambda s, e: None, name="inbox")
    pipeline.register(StatusUpdate, lambda s, e: None, name="inbox")  # another kind: fine


# ---------------------------------------------------------------------------- failures


def test_a_failing_handler_loses_nothing_and_stops_no_other_handler(db, caplog):
    seen: list[str] = []

    def broken(session, event):
        # Writes, then fails: its writes are rolled back, the stored message stays.
        crud.set_opt_out(session, phone_number=event.from_, opted_out=True, keyword="STOP")
        session.flush()
        raise RuntimeError(f"secret-token-xyz while reading {event.body}")

    pipeline = default_pipeline()
    pipeline.register(InboundMessage, broken, name="broken")
    pipeline.register(InboundMessage, lambda s, e: seen.append(e.message_sid), name="after")
    with caplog.at_level(logging.DEBUG, logger="twiliocore_api"):
        receipt = pipeline.receive(db, _inbound(body="a private body", sender="+14155550124"))
    assert receipt.failed == ("broken",)
    assert seen == [SID]
    stored = crud.get_message_by_sid(db, message_sid=SID)
    assert (stored.direction, stored.status, stored.body) == (
        "inbound",
        "received",
        "a private body",
    )
    assert not crud.is_opted_out(db, phone_number="+14155550124")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "broken" in errors[0].getMessage() and "RuntimeError" in errors[0].getMessage()
    assert SID in errors[0].getMessage()
    assert "secret-token-xyz" not in errors[0].getMessage()
    assert "a private body" not in errors[0].getMessage()


def test_a_failing_status_handler_keeps_the_event_and_tracking(db, outbound):
    message = outbound(db, sid=SID, status="sent")
    pipeline = InboundPipeline()

    def broken(session, event):
        raise LookupError("nope")

    pipeline.register(StatusUpdate, broken, name="broken")
    pipeline.register(StatusUpdate, track_delivery, name="tracking")
    receipt = pipeline.receive(db, parse_status({"MessageSid": SID, "MessageStatus": "delivered"}))
    assert receipt.failed == ("broken",)
    assert _count(db, StatusEvent) == 1
    db.refresh(message)
    assert message.status == "delivered"


# ---------------------------------------------------------------------------- duplicates


def test_a_repeated_delivery_is_stored_and_handled_once(db):
    calls: list[str | None] = []
    pipeline = default_pipeline()
    pipeline.register(InboundMessage, lambda s, e: calls.append(e.message_sid), name="count")
    first = pipeline.receive(db, _inbound(), idempotency_token="tok-1")
    # Twilio's retry: same token; then the same MessageSid under a new token, and none.
    again = pipeline.receive(db, _inbound(), idempotency_token="tok-1")
    other_token = pipeline.receive(db, _inbound(), idempotency_token="tok-2")
    no_token = pipeline.receive(db, _inbound())
    assert (first.duplicate, again.duplicate, other_token.duplicate, no_token.duplicate) == (
        False,
        True,
        True,
        True,
    )
    assert calls == [SID]
    assert db.scalar(select(func.count()).where(Message.message_sid == SID)) == 1


def test_a_repeated_status_callback_is_stored_once(db):
    pipeline = default_pipeline()
    event = parse_status({"MessageSid": SID, "MessageStatus": "sent"})
    assert not pipeline.receive(db, event, idempotency_token="s-1").duplicate
    assert pipeline.receive(db, event, idempotency_token="s-1").duplicate
    assert _count(db, StatusEvent) == 1


def test_inbound_messages_without_a_sid_are_each_stored(db):
    pipeline = default_pipeline()
    pipeline.receive(db, _inbound(sid=""))
    pipeline.receive(db, _inbound(sid=""))
    assert db.scalar(select(func.count()).where(Message.direction == "inbound")) == 2


# ---------------------------------------------------------------------------- opt-out handler


@pytest.mark.parametrize(
    ("body", "opted_out"), [(" stop ", True), ("STOPALL", True), ("please stop", False)]
)
def test_the_opt_out_handler(db, body, opted_out):
    default_pipeline().receive(db, _inbound(body=body, sender="+14155550125"))
    assert crud.is_opted_out(db, phone_number="+14155550125") is opted_out


def test_start_opts_back_in(db):
    pipeline = default_pipeline()
    pipeline.receive(db, _inbound(body="STOP", sid="SM" + "2" * 32, sender="+14155550126"))
    pipeline.receive(db, _inbound(body="unstop", sid="SM" + "3" * 32, sender="+14155550126"))
    assert not crud.is_opted_out(db, phone_number="+14155550126")


# ---------------------------------------------------------------------------- over HTTP


def test_the_webhook_answers_twiml_when_a_handler_fails(start_service, wait_for):
    svc = start_service()
    seen: list[InboundMessage] = []

    def broken(session, event):
        raise RuntimeError("handler bug")

    svc.messenger.inbound.register(InboundMessage, broken, name="broken")
    svc.messenger.inbound.register(InboundMessage, lambda s, e: seen.append(e), name="inbox")
    params = {"MessageSid": SID, "From": "+14155550127", "To": "+15005550006", "Body": "STOP"}
    url = svc.url + "/webhook/twilio/incoming"
    signature = RequestValidator(svc.emulator.auth_token).compute_signature(url, params)
    with svc.client() as client:
        answer = client.post(
            "/webhook/twilio/incoming", data=params, headers={"X-Twilio-Signature": signature}
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert "<Response></Response>" in answer.text
    assert [e.message_sid for e in seen] == [SID]
    with svc.messenger.session_factory() as db:
        assert crud.get_message_by_sid(db, message_sid=SID).body == "STOP"
        assert crud.is_opted_out(db, phone_number="+14155550127")
