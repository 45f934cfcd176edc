"""Webhook idempotency tokens (``I-Twilio-Idempotency-Token``) already processed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from twiliocore_api.crud._common import insert_new, is_storable
from twiliocore_api.models import WebhookEvent

__all__ = ["claim_webhook_token", "claim_webhook_tokens"]


def _storable(token: str) -> str:
    if is_storable(token, max_length=255):
        return token
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def claim_webhook_token(session: Session, *, token: str, kind: str) -> bool:
    """Record an idempotency token; False when it was already processed.

    Runs in a savepoint so a duplicate leaves the caller's transaction usable. A token
    too long for the column (or with U+0000) is kept as its SHA-256.
    """
    token = _storable(token)
    try:
        with session.begin_nested():
            session.add(WebhookEvent(token=token, kind=kind))
    except IntegrityError:
        return False
    return True


def claim_webhook_tokens(session: Session, tokens: Sequence[str], *, kind: str) -> list[bool]:
    """Record many idempotency tokens at once; for each, whether it was new.

    A token repeated within ``tokens`` is new only the first time. The caller commits.
    """
    keys = [_storable(token) for token in tokens]
    rows = [{"token": key, "kind": kind} for key in dict.fromkeys(keys)]
    claimed = insert_new(session, WebhookEvent, rows, key="token")
    if claimed is None:
        claimed = {row["token"] for row in rows if claim_webhook_token(session, **row)}
    answer: list[bool] = []
    for key in keys:
        answer.append(key in claimed)
        claimed.discard(key)
    return answer
