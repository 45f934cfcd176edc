"""Status tracking (services/status.py): forward only, events before the SID, refresh."""

from __future__ import annotations

import pytest
from twiliocore_api import crud
from twiliocore_api.services import sends, status


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("pending", "queued", True),
        ("queued", "sending", True),
        ("sending", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "read", True),
        ("queued", "delivered", True),
        ("sent", "undelivered", True),
        ("sending", "failed", True),
        ("unknown", "delivered", True),
        ("delivered", "sent", False),
        ("delivered", "undelivered", False),
        ("delivered", "failed", False),
        ("delivered", "delivered", False),
        ("sent", "queued", False),
        ("failed", "delivered", False),
        ("undelivered", "delivered", False),
        ("refused", "queued", False),
        ("read", "delivered", False),
        ("canceled", "sent", False),
    ],
)
def test_status_never_moves_back(current, new, moves):
    assert status.should_advance(current, new) is moves


def test_apply_status_sets_times_and_errors(db, outbound):
    message = outbound(db)
    assert status.apply_status(message, status="DELIVERED")
    assert message.status == "delivered"
    assert message.sent_at is not None and message.delivered_at is not None
    failing = outbound(db, sid="SM" + "b" * 32)
    assert status.apply_status(failing, status="undelivered", error_code=30003)
    assert failing.error_code == 30003
    assert "30003" in failing.error


def test_callback_before_the_sid_is_applied_when_it_arrives(db, outbound):
    sid = "SM" + "c" * 32
    crud.add_status_event(db, message_sid=sid, status="sent", error_code=None)
    assert status.apply_status_update(db, message_sid=sid, status="sent", error_code=None) is None
    crud.add_status_event(db, message_sid=sid, status="delivered", error_code=None)
    db.commit()
    message = outbound(db, sid=sid)
    status.apply_pending_events(db, message=message)
    assert message.status == "delivered"


def test_describe_error_code():
    assert "authentication" in status.describe_error_code(20003)
    assert status.describe_error_code(None) is None
    assert "99999" in status.describe_error_code(99999)


def test_catch_up_applies_events_of_messages_with_a_sid_and_commits(db, outbound):
    early = outbound(db, sid="SM" + "d" * 32, status="queued")
    unsent = outbound(db, sid=None, status="pending")
    crud.add_status_event(db, message_sid=early.message_sid, status="delivered", error_code=None)
    db.commit()
    status.catch_up(db, [early, unsent])
    db.expire_all()
    assert early.status == "delivered"
    assert unsent.status == "pending"


def test_apply_status_update_moves_a_known_message_forward_only(db, outbound):
    message = outbound(db, sid="SM" + "e" * 32, status="sent")
    assert (
        status.apply_status_update(
            db, message_sid=message.message_sid, status="failed", error_code=30003
        )
        is message
    )
    assert (message.status, message.error_code) == ("failed", 30003)
    status.apply_status_update(
        db, message_sid=message.message_sid, status="delivered", error_code=None
    )
    assert message.status == "failed"


def test_refresh_status_reads_twilio_forward_only(live_runtime, db, wait_for):
    _row, outcome = sends.send(
        live_runtime, db, user_id=None, kind="sms", to_number="+14155552671", body="refresh me"
    )
    message = crud.get_message_by_sid(db, message_sid=outcome.message_sid)
    # No status callbacks reach this database: only refresh_status can move it on.
    wait_for(
        lambda: live_runtime.twilio.messages()[-1]["status"] == "delivered",
        what="delivery at the emulator",
    )
    status.refresh_status(live_runtime, db, message)
    assert message.status == "delivered"
    assert message.delivered_at is not None


def test_refresh_status_leaves_the_status_when_twilio_cannot_be_asked(
    make_runtime, db, outbound, unused_port, caplog
):
    runtime = make_runtime(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="a-token-that-must-not-be-logged",
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{unused_port}",
    )
    message = outbound(db, sid="SM" + "f" * 32, status="sent")
    status.refresh_status(runtime, db, message)
    assert message.status == "sent"
    assert "status refresh of" in caplog.text
    assert "a-token-that-must-not-be-logged" not in caplog.text


@pytest.mark.parametrize("final", ["delivered", "failed", "read", "refused"])
def test_refresh_status_does_not_ask_about_settled_messages(make_runtime, db, outbound, final):
    runtime = make_runtime(MESSAGING_USE_MOCK=True)
    message = outbound(db, sid="SM" + "1" * 32, status=final)
    status.refresh_status(runtime, db, message)  # the emulator never heard of this SID
    assert message.status == final


def test_batched_callbacks_go_forward_only_in_arrival_order(db, outbound):
    first = outbound(db, sid="SM" + "1" * 32, status="queued")
    second = outbound(db, sid="SM" + "2" * 32, status="delivered")
    third = outbound(db, sid="SM" + "3" * 32, status="sent")
    status.apply_status_updates(
        db,
        [
            (first.message_sid, "sent", None),
            (second.message_sid, "sent", None),  # late: never back
            (third.message_sid, "undelivered", 30003),
            (first.message_sid, "delivered", None),
            (third.message_sid, "delivered", None),  # after a final status: ignored
            ("SM" + "9" * 32, "delivered", None),  # no such message yet: nothing
        ],
    )
    db.commit()
    db.expire_all()
    assert (first.status, second.status, third.status) == ("delivered", "delivered", "undelivered")
    assert first.sent_at is not None and first.delivered_at is not None
    assert third.error_code == 30003 and "30003" in third.error
    assert third.delivered_at is None
