"""The handlers every service registers: opt-out keywords and delivery tracking."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.services.inbound.events import InboundMessage, StatusUpdate
from twiliocore_api.services.status import apply_status_update, apply_status_updates

__all__ = [
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "opt_out_keywords",
    "track_deliveries",
    "track_delivery",
]

logger = logging.getLogger("twiliocore_api")

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def opt_out_keywords(session: Session, event: InboundMessage) -> None:
    """Opt the sender out on STOP (or another opt-out word), back in on START.

    Only a message that is the keyword alone counts (``"please don't stop"`` does not);
    YES and UNSTOP opt in too.
    """
    number = event.from_
    if not number or not crud.is_storable(number, max_length=32):
        return  # longer than any phone number (E.164 has 16 characters at most)
    keyword = event.body.strip().upper()
    if keyword in OPT_OUT_KEYWORDS:
        crud.set_opt_out(session, phone_number=number, opted_out=True, keyword=keyword)
        logger.info("opt-out (%s) received from a %s sender", keyword, event.channel)
    elif keyword in OPT_IN_KEYWORDS:
        crud.set_opt_out(session, phone_number=number, opted_out=False, keyword=keyword)
        logger.info("opt-in (%s) received from a %s sender", keyword, event.channel)


def track_delivery(session: Session, event: StatusUpdate) -> None:
    """Move the message the callback is about forward to its status (never backwards).

    The status event is already committed: if the message's SID is not recorded yet, the
    send applies it when it records the SID (see :func:`~twiliocore_api.services.status.catch_up`).
    """
    apply_status_update(
        session,
        message_sid=event.message_sid,
        status=event.message_status,
        error_code=event.error_code,
    )


def track_deliveries(session: Session, events: Sequence[StatusUpdate]) -> None:
    """:func:`track_delivery` for a batch of callbacks, in arrival order (the caller commits)."""
    apply_status_updates(session, [(e.message_sid, e.message_status, e.error_code) for e in events])
