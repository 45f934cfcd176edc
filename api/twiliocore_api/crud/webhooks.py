"""Webhook idempotency tokens (``I-Twilio-Idempotency-Token``) already processed."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import is_storable
from twiliocore_api.models import WebhookEvent

__all__ = ["claim_webhook_token"]


def claim_webhook_token(session: Session, *, token: str, kind: str) -> bool:
    """Record an idempotency token; False when it was already processed.

    Runs in a savepoint so a duplicate leaves the caller's transaction usable. A token
    too long for the column (or with U+0000) is kept as its SHA-256.
    """
    if not is_storable(token, max_length=255):
        token = "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        with session.begin_nested():
            session.add(WebhookEvent(token=token, kind=kind))
    except IntegrityError:
        return False
    return True
