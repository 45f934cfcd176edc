"""Twilio's webhooks: status callbacks and incoming messages, signature-checked.

Each route checks the signature, parses the form into a typed event and hands it to the
inbox (:mod:`twiliocore_api.services.inbound.inbox`), which de-duplicates and stores it,
many to a transaction, answers once it is committed, and applies it in batches through
the inbound pipeline's handlers (opt-out keywords, delivery tracking, ...).

The signature is checked against the public URL: ``WEBHOOK_BASE_URL`` + path (+ query),
or, only when ``TRUST_PROXY_HEADERS`` is set, the scheme and host from
``X-Forwarded-Proto``/``X-Forwarded-Host``. The request's own ``Host`` header is never
trusted. A repeated ``I-Twilio-Idempotency-Token`` is acknowledged and not applied again,
and so is a status callback replayed with another token or none (same message, status
and error code).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from starlette.datastructures import FormData

from twiliocore_api.core.config import Settings
from twiliocore_api.services.config import MessagingRuntime
from twiliocore_api.services.inbound import Event, InvalidWebhook, parse_inbound, parse_status
from twiliocore_api.services.inbound.inbox import Inbox, InboxUnavailable

router = APIRouter(prefix="/webhook/twilio", tags=["Webhooks"])
logger = logging.getLogger("twiliocore_api")

_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio signed: the configured public base (or trusted proxy headers) + path."""
    base = settings.public_base_url
    if settings.TRUST_PROXY_HEADERS:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        if proto in ("http", "https") and host:
            base = f"{proto}://{host}"
    url = base + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def verified_form(request: Request) -> FormData:
    """The webhook's form parameters, once its X-Twilio-Signature checks out (403 otherwise).

    Runs on the event loop (no thread, no database): the check is an HMAC.
    """
    settings: Settings = request.app.state.settings
    messenger: MessagingRuntime = request.app.state.messenger
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing X-Twilio-Signature")
    try:
        form = await request.form()
    except Exception:  # a malformed body is an unsigned body
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid webhook body") from None
    params = {key: form.getlist(key) for key in form}
    if any(not isinstance(value, str) for values in params.values() for value in values):
        # Twilio posts plain form fields; a file upload is not a Twilio webhook.
        await form.close()
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid webhook body")
    validator = messenger.validator()
    if validator is None or not validator.validate(
        public_url(request, settings), params, signature
    ):
        logger.warning("rejected a webhook with an invalid signature on %s", request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid X-Twilio-Signature")
    return form


VerifiedForm = Annotated[FormData, Depends(verified_form)]


def _params(form: FormData) -> dict[str, str]:
    # The last value of each field, without U+0000, which PostgreSQL cannot store (Twilio
    # never sends it).
    params: dict[str, str] = {}
    for key in form:
        value = form.get(key)
        if isinstance(value, str):
            params[key] = value.replace("\x00", "")
    return params


async def _receive(
    parse: Callable[[dict[str, str]], Event], form: FormData, request: Request
) -> None:
    """Parse the form (400 naming what is wrong) and hand the event to the inbox.

    Returns once the event is committed; 503 with ``Retry-After`` when it could not be
    stored, so that Twilio tries again.
    """
    try:
        event = parse(_params(form))
    except InvalidWebhook as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    token = request.headers.get("i-twilio-idempotency-token") or None
    inbox: Inbox = request.app.state.inbox
    try:
        await inbox.submit(event, idempotency_token=token)
    except InboxUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc), headers={"Retry-After": "1"}
        ) from None


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def status_callback(form: VerifiedForm, request: Request) -> Response:
    """Apply a message status callback (forward only; duplicates acknowledged)."""
    await _receive(parse_status, form, request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/incoming", response_class=Response)
async def incoming_message(form: VerifiedForm, request: Request) -> Response:
    """Store an incoming SMS/WhatsApp message; STOP/START keywords opt out/in."""
    await _receive(parse_inbound, form, request)
    return Response(content=_EMPTY_TWIML, media_type="application/xml")
