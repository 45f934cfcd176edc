"""Data access (crud/): opt-outs, webhook tokens, messages, settings, on a real SQLite database."""

from __future__ import annotations

from sqlalchemy import inspect
from twiliocore_api import crud
from twiliocore_api.models import Message


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


def test_list_messages_pages_newest_first(db, outbound):
    for i in range(5):
        outbound(db, sid=f"SM{i:032d}")
    rows, count = crud.list_messages(db, user_id=None, limit=2, offset=1)
    assert count == 5
    assert [r.message_sid for r in rows] == [f"SM{3:032d}", f"SM{2:032d}"]
    assert inspect(rows[0]).persistent
    assert isinstance(rows[0], Message)


def test_update_preferences_changes_only_what_is_given(db):
    user = crud.create_user(db, email="Prefs@Example.com", password="pw-123456", phone_number="+1")
    assert crud.get_user(db, user_id=user.id) is crud.get_user_by_email(
        db, email="prefs@example.com"
    )
    crud.update_preferences(db, user=user, whatsapp_enabled=True)
    assert (user.phone_number, user.sms_enabled, user.whatsapp_enabled) == ("+1", True, True)
    crud.update_preferences(db, user=user, phone_number="+14155550000", sms_enabled=False)
    assert (user.phone_number, user.sms_enabled) == ("+14155550000", False)
    crud.update_preferences(db, user=user, clear_phone_number=True)
    assert user.phone_number is None


def test_status_events_are_listed_in_arrival_order(db):
    sid = "SM" + "e" * 32
    for status in ("sent", "queued", "delivered"):
        crud.add_status_event(db, message_sid=sid, status=status, error_code=None)
    db.commit()
    assert [e.status for e in crud.list_status_events(db, message_sid=sid)] == [
        "sent",
        "queued",
        "delivered",
    ]
    assert crud.list_status_events(db, message_sid="SM" + "f" * 32) == []


def test_sms_settings_are_one_row(db):
    assert crud.get_sms_settings(db) is None
    first = crud.save_sms_settings(
        db,
        account_sid="AC" + "1" * 32,
        auth_token_encrypted="sealed",
        phone_number="+15005550006",
        whatsapp_number=None,
        user_id=None,
    )
    again = crud.save_sms_settings(
        db,
        account_sid="AC" + "2" * 32,
        auth_token_encrypted="sealed-2",
        phone_number=None,
        whatsapp_number="+14155238886",
        user_id=None,
    )
    assert again.id == first.id == 1
    assert (again.account_sid, again.phone_number) == ("AC" + "2" * 32, None)
