"""Single sends: record the message, send it through the facade, record Twilio's answer.

Every send is written to the database (status ``pending``) before the request and
updated after it, so a crash never leaves a sent message unrecorded. Twilio's answer
comes back from :meth:`twiliocore.Client.messages.create` as a
:class:`~twiliocore.client.MessageInstance`, or as an exception of twiliocore's error tree;
this module turns either into the message row's status and error, and a
:class:`SendOutcome` for the caller. An answer lost after the request left (a
:class:`~twiliocore.TransportError` that is not ``never_sent``) is no failure: the message
may exist at Twilio, so it is recorded ``unknown`` and reconciled on the job queue
(:mod:`twiliocore_api.services.reconcile`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import twiliocore
from sqlalchemy.orm import Session
from twiliocore.errors import InvalidPhoneNumber
from twiliocore.phone import normalize_address, to_e164

from twiliocore_api import crud
from twiliocore_api.models import Message
from twiliocore_api.services.config import MessagingRuntime, strip_channel
from twiliocore_api.services.status import apply_status, catch_up, describe_error_code

__all__ = [
    "OPTED_OUT_CODE",
    "SendOutcome",
    "record_accepted",
    "record_failure",
    "send",
]

logger = logging.getLogger("twiliocore_api")

# Twilio's error for a send to a recipient who replied STOP (the service refuses with it too).
OPTED_OUT_CODE = 21610
_WHATSAPP = "whatsapp:"
# The error of a send whose answer was lost after the request left.
_AMBIGUOUS = (
    "Twilio's answer was lost after the request was sent ({exc}): the message may have "
    "been sent. It is not sent again; it will be reconciled with Twilio's message log "
    "(its SID and status recorded if it was created, else failed)"
)


@dataclass(frozen=True)
class SendOutcome:
    """What a single send did, read from its message row (the fields of ``SendResult``)."""

    success: bool
    message_sid: str | None
    status: str
    to: str
    from_: str | None
    type: str
    num_segments: int | None
    error: str | None
    error_code: int | None

    @classmethod
    def of(cls, message: Message, *, success: bool) -> SendOutcome:
        """The outcome recorded on ``message``."""
        return cls(
            success=success,
            message_sid=message.message_sid,
            status=message.status,
            to=message.to_number,
            from_=message.from_number,
            type=message.type,
            num_segments=message.num_segments,
            error=message.error,
            error_code=message.error_code,
        )


def send(
    runtime: MessagingRuntime,
    session: Session,
    *,
    user_id: int | None,
    kind: str,
    to_number: str,
    body: str,
    from_number: str | None = None,
    media_url: str | None = None,
) -> tuple[Message, SendOutcome]:
    """Record, send and update one message; returns the row and what happened.

    ``to_number`` must already be E.164. An opted-out recipient is recorded as
    ``refused`` and nothing is sent. A failed send is an outcome, not an exception; one
    whose answer was lost after the request left is ``unknown`` and queued for
    reconciliation.
    """
    config, client = runtime.current()
    sender = from_number or (config.whatsapp_number if kind == "whatsapp" else config.phone_number)
    # The opt-out is read before the row is written, so that one commit records the
    # message (``pending``, or ``refused`` when it will not be sent) and gives the
    # connection back to the pool before the request to Twilio.
    refusal: dict[str, object] = {}
    if crud.is_opted_out(session, phone_number=to_number):
        refusal = {
            "status": "refused",
            "error_code": OPTED_OUT_CODE,
            "error": f"not sent: {to_number} has opted out (replied STOP); "
            "they can opt back in by replying START",
        }
    message = crud.create_message(
        session,
        user_id=user_id,
        type=kind,
        direction="outbound-api",
        to_number=to_number,
        from_number=sender,
        body=body,
        media_url=media_url,
        **{"status": "pending", **refusal},
    )
    if refusal:
        return message, SendOutcome.of(message, success=False)
    region = runtime.settings.DEFAULT_REGION
    accepted = False
    try:
        created = client.messages.create(
            to=_WHATSAPP + to_number if kind == "whatsapp" else to_number,
            from_=_sender_address(sender, kind, region),
            body=body,
            media_url=media_url,
            status_callback=runtime.status_callback_url,
        )
    except twiliocore.TwilioRestError as exc:
        record_failure(message, error_code=exc.code, error=exc.message)
    except twiliocore.TransportError as exc:
        if exc.never_sent:
            record_failure(message, error=str(exc))
        else:
            # The request may have reached Twilio and created the message: not a failure.
            record_failure(message, status="unknown", error=_AMBIGUOUS.format(exc=exc))
            if runtime.reconciler is not None:
                runtime.reconciler.enqueue(session, message.id)
    except (twiliocore.TwilioCoreError, ValueError) as exc:
        record_failure(message, error=str(exc))
    except Exception as exc:  # a bug below us must not lose the record
        logger.exception("send failed unexpectedly (message id %s)", message.id)
        record_failure(message, error=f"send failed: {type(exc).__name__}")
    else:
        if created.sid:
            accepted = True
            record_accepted(
                message,
                message_sid=created.sid,
                status=created.status,
                num_segments=_segments(created.num_segments),
                from_address=created.from_,
            )
        else:
            record_failure(message, error="Twilio's answer carried no message SID")
    session.commit()
    if message.status == "unknown" and runtime.reconciler is not None:
        runtime.reconciler.wake_worker()
    catch_up(session, [message])
    return message, SendOutcome.of(message, success=accepted)


def _sender_address(sender: str | None, kind: str, region: str) -> str:
    """The ``From`` Twilio expects: E.164 (``whatsapp:`` for WhatsApp), or an alphanumeric ID."""
    if not sender:
        raise twiliocore.ConfigurationError(f"no {kind} sender is configured")
    if kind == "whatsapp":
        return _WHATSAPP + to_e164(sender.removeprefix(_WHATSAPP), region, strict=False)
    try:
        return normalize_address(sender, region, strict=False)
    except InvalidPhoneNumber:
        # Alphanumeric sender IDs and short codes are valid senders but not numbers.
        return sender.strip()


def record_accepted(
    message: Message,
    *,
    message_sid: str,
    status: str | None,
    num_segments: int | None,
    from_address: str | None,
) -> None:
    """Record Twilio's acceptance of ``message`` (the caller commits, then catches up).

    Acceptance is not sending: ``sent_at`` is set by :func:`apply_status` once Twilio
    reports ``sent`` (in this answer, a status callback or a refresh), not here.
    """
    message.message_sid = message_sid
    message.num_segments = num_segments
    sender = strip_channel(from_address)
    if sender:
        message.from_number = sender
    apply_status(message, status=status or "queued")


def record_failure(
    message: Message,
    *,
    status: str | None = None,
    error_code: int | None = None,
    error: str | None = None,
) -> None:
    """Record a send that failed (``status`` ``unknown`` when its outcome is unknown).

    Twilio's 21610 (the recipient opted out elsewhere) makes the send ``refused``, as one
    the service refuses itself. The caller commits.
    """
    message.status = "unknown" if status == "unknown" else "failed"
    message.error_code = error_code
    message.error = str(error or describe_error_code(error_code))
    if error_code == OPTED_OUT_CODE:
        message.status = "refused"
        message.error = (
            f"not sent: Twilio reports that {message.to_number} has opted out "
            f"(error {OPTED_OUT_CODE}); they can opt back in by replying START"
        )


def _segments(value: str | None) -> int | None:
    """Twilio's ``num_segments`` (a string of digits, as twilio-python keeps it) as an int."""
    return int(value) if value and value.isdigit() else None
