"""The inbox: webhook events stored many at a time, once each, and applied in batches."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from twiliocore_api import crud
from twiliocore_api.models import StatusEvent
from twiliocore_api.services.inbound import StatusUpdate, default_pipeline
from twiliocore_api.services.inbound.inbox import Inbox, InboxUnavailable

SID = "SM" + "a" * 32


def _submit_all(inbox: Inbox, items: list[tuple[StatusUpdate, str | None]]) -> None:
    async def run() -> None:
        await asyncio.gather(*(inbox.submit(e, idempotency_token=t) for e, t in items))

    asyncio.run(run())


def test_submitted_callbacks_are_stored_once_and_applied(session_factory, outbound):
    with session_factory() as db:
        outbound(db, sid=SID, status="queued")
    inbox = Inbox(session_factory, default_pipeline())
    inbox.start()
    try:
        _submit_all(
            inbox,
            [
                (StatusUpdate(SID, "sent"), "t1"),
                (StatusUpdate(SID, "delivered"), "t1"),  # a repeated token: not applied
                (StatusUpdate(SID, "sent"), "t2"),  # the same event, another token
                (StatusUpdate(SID, "sent"), None),  # ... or none
            ],
        )
        with session_factory() as db:
            assert crud.get_message_by_sid(db, message_sid=SID).status == "sent"
            assert [e.status for e in crud.list_status_events(db, message_sid=SID)] == ["sent"]
        _submit_all(inbox, [(StatusUpdate(SID, "delivered"), "t3")])
        with session_factory() as db:
            assert crud.get_message_by_sid(db, message_sid=SID).status == "delivered"
            pending = db.scalar(select(func.count()).where(StatusEvent.applied.is_(False)))
            assert pending == 0
    finally:
        inbox.stop()


def test_events_left_unapplied_are_applied_at_the_next_start(session_factory, outbound):
    with session_factory() as db:
        outbound(db, sid=SID, status="queued")
        crud.append_status_events(db, [crud.StatusReceipt(SID, "delivered")])
        db.commit()
    inbox = Inbox(session_factory, default_pipeline(), idle_seconds=0.05)
    inbox.start()
    try:
        _submit_all(inbox, [])  # nothing new: the start applies what was left
        for _ in range(100):
            with session_factory() as db:
                if crud.get_message_by_sid(db, message_sid=SID).status == "delivered":
                    break
            asyncio.run(asyncio.sleep(0.05))
        with session_factory() as db:
            assert crud.get_message_by_sid(db, message_sid=SID).status == "delivered"
    finally:
        inbox.stop()


def test_a_stopped_inbox_refuses_at_once(session_factory):
    inbox = Inbox(session_factory, default_pipeline())

    async def run() -> None:
        await inbox.submit(StatusUpdate(SID, "sent"))

    with pytest.raises(InboxUnavailable):
        asyncio.run(run())
