"""Status ordering, opt-outs and webhook tokens, on a real (SQLite) database."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from twiliocore_api import crud
from twiliocore_api.core.db import make_engine, make_session_factory, run_migrations
from twiliocore_api.models import Message


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/crud.db")
    run_migrations(engine)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


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
    assert crud.should_advance(current, new) is moves


def _message(db, sid="SM" + "a" * 32, status="queued"):
    return crud.create_message(
        db,
        message_sid=sid,
        type="sms",
        direction="outbound-api",
        to_number="+14155552671",
        from_number="+15005550006",
        body="x",
        status=status,
    )


def test_apply_status_sets_times_and_errors(db):
    message = _message(db)
    assert crud.apply_status(message, status="DELIVERED")
    assert message.status == "delivered"
    assert message.sent_at is not None and message.delivered_at is not None
    failing = _message(db, sid="SM" + "b" * 32)
    assert crud.apply_status(failing, status="undelivered", error_code=30003)
    assert failing.error_code == 30003
    assert "30003" in failing.error


def test_callback_before_the_sid_is_applied_when_it_arrives(db):
    sid = "SM" + "c" * 32
    assert crud.record_status_event(db, message_sid=sid, status="sent", error_code=None) is None
    crud.record_status_event(db, message_sid=sid, status="delivered", error_code=None)
    db.commit()
    message = _message(db, sid=sid)
    crud.apply_pending_events(db, message=message)
    assert message.status == "delivered"


def test_webhook_tokens_are_claimed_once(db):
    assert crud.claim_webhook_token(db, token="t1", kind="status")
    db.commit()
    assert not crud.claim_webhook_token(db, token="t1", kind="status")
    # The session stays usable after a duplicate.
    assert crud.claim_webhook_token(db, token="t2", kind="status")
    db.commit()


def test_opt_out_and_back_in(db):
    assert not crud.is_opted_out(db, phone_number="+14155550000")
    crud.set_opt_out(db, phone_number="+14155550000", opted_out=True, keyword="STOP")
    db.commit()
    assert crud.is_opted_out(db, phone_number="+14155550000")
    crud.set_opt_out(db, phone_number="+14155550000", opted_out=False, keyword="START")
    db.commit()
    assert not crud.is_opted_out(db, phone_number="+14155550000")


def test_list_messages_pages_newest_first(db):
    for i in range(5):
        _message(db, sid=f"SM{i:032d}")
    rows, count = crud.list_messages(db, user_id=None, limit=2, offset=1)
    assert count == 5
    assert [r.message_sid for r in rows] == [f"SM{3:032d}", f"SM{2:032d}"]
    assert inspect(rows[0]).persistent
    assert isinstance(rows[0], Message)


def test_describe_error_code():
    assert "authentication" in crud.describe_error_code(20003)
    assert crud.describe_error_code(None) is None
    assert "99999" in crud.describe_error_code(99999)
