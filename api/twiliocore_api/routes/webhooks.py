"""Twilio's webhooks: status callbacks and incoming messages, signature-checked.

The signature is checked against the public URL: ``WEBHOOK_BASE_URL`` + path (+ query),
or, only when ``TRUST_PROXY_HEADERS`` is set, the scheme and host from
``X-Forwarded-Proto``/``X-Forwarded-Host``. The request's own ``Host`` header is never
trusted. A repeated ``I-Twilio-Idempotency-Token`` is acknowledged and not applied again.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from starlette.datastructures import FormData

from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.deps import MessengerDep, SessionDep, SettingsDep
from twiliocore_api.models import Message
from twiliocore_api.schemas import MAX_INT

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


async def verified_form(
    request: Request, settings: SettingsDep, messenger: MessengerDep
) -> FormData:
    """The webhook's form parameters, once its X-Twilio-Signature checks out (403 otherwise)."""
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


def _text(form: FormData, key: str) -> str:
    # Without U+0000, which PostgreSQL cannot store (Twilio never sends it).
    value = form.get(key)
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _int(value: str) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    # A number no INTEGER column holds is not one of Twilio's codes or counts.
    return number if number is not None and abs(number) <= MAX_INT else None


def _bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def status_callback(form: VerifiedForm, request: Request, session: SessionDep) -> Response:
    """Apply a message status callback (forward only; duplicates acknowledged)."""
    sid = _text(form, "MessageSid") or _text(form, "SmsSid")
    new_status = (_text(form, "MessageStatus") or _text(form, "SmsStatus")).lower()
    if not sid or not new_status:
        raise _bad_request("MessageSid and MessageStatus needed")
    if not crud.is_storable(sid, max_length=34) or not crud.is_storable(new_status, max_length=24):
        raise _bad_request("MessageSid or MessageStatus is not one of Twilio's")
    token = request.headers.get("i-twilio-idempotency-token")
    if token and not crud.claim_webhook_token(session, token=token, kind="status"):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    message = crud.record_status_event(
        session, message_sid=sid, status=new_status, error_code=_int(_text(form, "ErrorCode"))
    )
    session.commit()
    if message is None:
        # The send's answer may be committing the SID right now: look again in a fresh
        # transaction (the sender does the mirror check), so the event is never lost.
        message = crud.get_message_by_sid(session, message_sid=sid)
        if message is not None:
            crud.apply_pending_events(session, message=message)
            session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/incoming", response_class=Response)
def incoming_message(form: VerifiedForm, request: Request, session: SessionDep) -> Response:
    """Store an incoming SMS/WhatsApp message; STOP/START keywords opt out/in."""
    twiml = Response(content=_EMPTY_TWIML, media_type="application/xml")
    token = request.headers.get("i-twilio-idempotency-token")
    if token and not crud.claim_webhook_token(session, token=token, kind="incoming"):
        return twiml
    sid = _text(form, "MessageSid") or _text(form, "SmsMessageSid") or None
    if sid and not crud.is_storable(sid, max_length=34):
        raise _bad_request("MessageSid is not one of Twilio's")
    if sid and crud.get_message_by_sid(session, message_sid=sid) is not None:
        return twiml
    sender = _text(form, "From")
    kind = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    number = sender.split(":", 1)[1] if kind == "whatsapp" else sender
    recipient = _text(form, "To")
    recipient = recipient.split(":", 1)[1] if recipient.startswith("whatsapp:") else recipient
    if not crud.is_storable(number, max_length=64) or not crud.is_storable(
        recipient, max_length=64
    ):
        raise _bad_request("From or To is not a phone number or channel address")
    body = _text(form, "Body")
    session.add(
        Message(
            message_sid=sid,
            type=kind,
            direction="inbound",
            to_number=recipient,
            from_number=number,
            body=body,
            media_url=_text(form, "MediaUrl0") or None,
            status="received",
            num_segments=_int(_text(form, "NumSegments")),
        )
    )
    keyword = body.strip().upper()
    if not crud.is_storable(number, max_length=32):
        number = ""  # longer than any phone number (E.164 has 16 characters at most)
    if number and keyword in crud.OPT_OUT_KEYWORDS:
        crud.set_opt_out(session, phone_number=number, opted_out=True, keyword=keyword)
        logger.info("opt-out (%s) received from a %s sender", keyword, kind)
    elif number and keyword in crud.OPT_IN_KEYWORDS:
        crud.set_opt_out(session, phone_number=number, opted_out=False, keyword=keyword)
        logger.info("opt-in (%s) received from a %s sender", keyword, kind)
    session.commit()
    return twiml
