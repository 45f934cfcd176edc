"""SMS & WhatsApp: settings, sending (single and bulk), status, history and preferences."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from twiliocore.errors import InvalidPhoneNumber

from twiliocore_api import crud
from twiliocore_api.core.errors import invalid_body, unprocessable
from twiliocore_api.core.security import mask_secret
from twiliocore_api.deps import (
    AdminUser,
    BulkDep,
    CurrentUser,
    MessengerDep,
    SendRateLimit,
    SessionDep,
    SettingsDep,
)
from twiliocore_api.models import BulkJob, Message, User
from twiliocore_api.schemas import (
    MAX_INT,
    BulkAccepted,
    BulkDelivery,
    BulkInvalidPage,
    BulkJobPublic,
    BulkRecipientPublic,
    BulkSendRequest,
    InvalidRecipient,
    MessagePublic,
    MessagesPublic,
    PreferencesPublic,
    PreferencesUpdate,
    SendResult,
    SmsSendRequest,
    SmsSettingsPublic,
    SmsSettingsUpdate,
    TestConnectionResult,
    UtcDateTime,
    UtcDateTimeUntil,
    WhatsAppBulkSendRequest,
    WhatsAppSendRequest,
)
from twiliocore_api.services import sends
from twiliocore_api.services.bulk import INVALID_LISTED, BulkJobs, delivery
from twiliocore_api.services.config import (
    CredentialsRejected,
    EffectiveConfig,
    MessagingRuntime,
    TwilioUnreachable,
)
from twiliocore_api.services.status import MESSAGE_STATUSES, refresh_status

router = APIRouter(prefix="/api/sms", tags=["SMS & WhatsApp"])


def _e164(messenger: MessagingRuntime, field: str, number: str) -> str:
    try:
        return messenger.normalize(number)
    except InvalidPhoneNumber as exc:
        raise unprocessable(field, f"not a valid phone number: {exc.reason}") from None


def _settings_public(config: EffectiveConfig) -> SmsSettingsPublic:
    return SmsSettingsPublic(
        account_sid=config.account_sid,
        auth_token_masked=mask_secret(config.auth_token),
        phone_number=config.phone_number,
        whatsapp_number=config.whatsapp_number,
        configured=config.configured,
        mode="live" if config.mode == "live" else "mock",
        source=config.source,  # type: ignore[arg-type]
        updated_at=config.updated_at,
    )


def message_public(message: Message) -> MessagePublic:
    """The API view of a stored message."""
    return MessagePublic.model_validate(
        {
            "id": message.id,
            "message_sid": message.message_sid,
            "to": message.to_number,
            "from": message.from_number,
            "type": message.type,
            "direction": message.direction,
            "body": message.body,
            "media_url": message.media_url,
            "status": message.status,
            "num_segments": message.num_segments,
            "created_at": message.created_at,
            "sent_at": message.sent_at,
            "delivered_at": message.delivered_at,
            "error_code": message.error_code,
            "error": message.error,
            "bulk_job_id": message.bulk_job_id,
        }
    )


# ---------------------------------------------------------------------------- settings


@router.get("/settings", response_model=SmsSettingsPublic)
def read_settings(messenger: MessengerDep, _admin: AdminUser) -> SmsSettingsPublic:
    """The Twilio settings in force (admin; the auth token masked)."""
    return _settings_public(messenger.config)


def _settings_body(raw: dict[str, Any], region: str) -> SmsSettingsUpdate:
    """Validate the whole body in one pass (numbers in ``region``): one 422 for every field."""
    try:
        return SmsSettingsUpdate.model_validate(raw, context={"region": region})
    except ValidationError as exc:
        raise invalid_body(exc) from None


# The body is validated in the route (the numbers need the configured region), so its
# schema is given to OpenAPI here.
_SETTINGS_BODY_SCHEMA = {
    "requestBody": {
        "content": {"application/json": {"schema": SmsSettingsUpdate.model_json_schema()}}
    }
}


@router.post(
    "/settings",
    response_model=SmsSettingsPublic,
    openapi_extra=_SETTINGS_BODY_SCHEMA,
    responses={
        422: {"description": "Invalid fields (all listed), or Twilio refused the credentials."},
        502: {"description": "Twilio could not be reached to check the credentials."},
    },
)
def update_settings(
    raw: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    messenger: MessengerDep,
    admin: AdminUser,
) -> SmsSettingsPublic | JSONResponse:
    """Check Twilio credentials with Twilio, store them (encrypted) and put them in force (admin).

    ``"verify": false`` stores them without asking Twilio first.
    """
    body = _settings_body(raw, messenger.settings.DEFAULT_REGION)
    if body.verify:
        try:
            messenger.verify_credentials(body.account_sid, body.auth_token)
        except CredentialsRejected as exc:
            return JSONResponse(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                content={
                    "detail": [
                        {
                            "loc": ["body", exc.field],
                            "field": exc.field,
                            "msg": f"{exc}; nothing was stored",
                            "type": "twilio_rejected",
                            "twilio_status": exc.status,
                            "twilio_code": exc.code,
                        }
                    ]
                },
            )
        except TwilioUnreachable as exc:
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY,
                detail=f'{exc}; nothing was stored (retry, or send "verify": false)',
            ) from None
    config = messenger.save_settings(
        session,
        account_sid=body.account_sid,
        auth_token=body.auth_token,
        phone_number=body.phone_number,
        whatsapp_number=body.whatsapp_number,
        user_id=admin.id,
    )
    return _settings_public(config)


@router.delete("/settings", response_model=SmsSettingsPublic)
def delete_settings(
    session: SessionDep, messenger: MessengerDep, _admin: AdminUser
) -> SmsSettingsPublic:
    """Remove the stored settings: the environment's configuration, or mock mode, is in force."""
    return _settings_public(messenger.clear_settings(session))


@router.post("/test-connection", response_model=TestConnectionResult)
def test_connection(messenger: MessengerDep, _admin: AdminUser) -> TestConnectionResult:
    """Fetch the account from Twilio (or the emulator) with the settings in force (admin)."""
    return TestConnectionResult.model_validate(asdict(messenger.test_connection()))


# ---------------------------------------------------------------------------- sending


def _require_sender(messenger: MessagingRuntime, kind: str) -> None:
    """503 when the configuration has no sender for ``kind`` (nothing could be sent)."""
    missing = messenger.missing_sender(kind)
    if missing is not None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=missing)


def _send_response(outcome: sends.SendOutcome) -> JSONResponse:
    sent = SendResult.model_validate(asdict(outcome))
    body = sent.model_dump(mode="json", by_alias=True)
    if sent.success:
        code = status.HTTP_201_CREATED
    elif sent.status == "refused":
        code = status.HTTP_409_CONFLICT
    elif sent.status == "unknown":
        # The answer was lost after the request left: maybe sent, reconciled later.
        code = status.HTTP_202_ACCEPTED
    elif sent.error_code is not None and sent.error_code >= 20000:  # a Twilio error code
        code = status.HTTP_400_BAD_REQUEST
    else:
        code = status.HTTP_502_BAD_GATEWAY
    return JSONResponse(status_code=code, content=body)


_SEND_RESPONSES: dict[int | str, dict[str, object]] = {
    201: {"model": SendResult, "description": "accepted by Twilio"},
    202: {
        "model": SendResult,
        "description": "outcome unknown: Twilio's answer was lost after the request was sent, "
        "so the message may have been sent (status `unknown`; do not resend). It is "
        "reconciled with Twilio's message log: found, its SID and status are recorded; "
        "not found, it becomes `failed`. Follow it in the message history.",
    },
    400: {"model": SendResult, "description": "refused by Twilio (error_code says why)"},
    409: {"model": SendResult, "description": "refused: the recipient opted out (STOP)"},
    429: {"description": "rate limit reached (see Retry-After)"},
    502: {"model": SendResult, "description": "Twilio could not be reached (nothing was sent)"},
    503: {"description": "no sender is configured for this kind of message"},
}


@router.post("/send", response_model=SendResult, status_code=201, responses=_SEND_RESPONSES)
def send_sms(
    body: SmsSendRequest, session: SessionDep, messenger: MessengerDep, user: SendRateLimit
) -> JSONResponse:
    """Send one SMS; the message is recorded before it is sent."""
    to = _e164(messenger, "to_number", body.to_number)
    sender = _e164(messenger, "from_number", body.from_number) if body.from_number else None
    missing = messenger.missing_sender("sms", sender)
    if missing is not None:
        raise unprocessable("from_number", missing)
    _row, outcome = sends.send(
        messenger,
        session,
        user_id=user.id,
        kind="sms",
        to_number=to,
        body=body.message,
        from_number=sender,
    )
    return _send_response(outcome)


@router.post(
    "/whatsapp/send", response_model=SendResult, status_code=201, responses=_SEND_RESPONSES
)
def send_whatsapp(
    body: WhatsAppSendRequest, session: SessionDep, messenger: MessengerDep, user: SendRateLimit
) -> JSONResponse:
    """Send one WhatsApp message; the message is recorded before it is sent."""
    to = _e164(messenger, "to_number", body.to_number)
    _require_sender(messenger, "whatsapp")
    _row, outcome = sends.send(
        messenger,
        session,
        user_id=user.id,
        kind="whatsapp",
        to_number=to,
        body=body.message,
        media_url=body.media_url,
    )
    return _send_response(outcome)


def _start_bulk(
    kind: Literal["sms", "whatsapp"],
    body: BulkSendRequest,
    media_url: str | None,
    session: SessionDep,
    messenger: MessagingRuntime,
    bulk: BulkJobs,
    user: User,
    max_recipients: int,
) -> BulkAccepted:
    if len(body.phone_numbers) > max_recipients:
        raise unprocessable(
            "phone_numbers",
            f"{len(body.phone_numbers)} recipients is more than the maximum of {max_recipients}",
        )
    _require_sender(messenger, kind)
    plan = bulk.plan(body.phone_numbers)
    job, refused = bulk.start(
        session, user_id=user.id, kind=kind, plan=plan, body=body.message, media_url=media_url
    )
    return BulkAccepted(
        job_id=job.id,
        status=job.status,
        total=plan.total,
        accepted=len(plan.recipients),
        duplicates=plan.duplicates,
        refused=refused,
        invalid=[InvalidRecipient(**item) for item in plan.invalid[:INVALID_LISTED]],
        invalid_count=len(plan.invalid),
    )


_BULK_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {"description": "no sender is configured for this kind of message"}
}


@router.post(
    "/send-bulk",
    response_model=BulkAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=_BULK_RESPONSES,
)
def send_bulk_sms(
    body: BulkSendRequest,
    session: SessionDep,
    messenger: MessengerDep,
    bulk: BulkDep,
    settings: SettingsDep,
    user: SendRateLimit,
) -> BulkAccepted:
    """Start a bulk SMS job; recipients are normalised and deduplicated first."""
    return _start_bulk(
        "sms", body, None, session, messenger, bulk, user, settings.MAX_BULK_RECIPIENTS
    )


@router.post(
    "/whatsapp/send-bulk",
    response_model=BulkAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=_BULK_RESPONSES,
)
def send_bulk_whatsapp(
    body: WhatsAppBulkSendRequest,
    session: SessionDep,
    messenger: MessengerDep,
    bulk: BulkDep,
    settings: SettingsDep,
    user: SendRateLimit,
) -> BulkAccepted:
    """Start a bulk WhatsApp job; recipients are normalised and deduplicated first."""
    return _start_bulk(
        "whatsapp",
        body,
        body.media_url,
        session,
        messenger,
        bulk,
        user,
        settings.MAX_BULK_RECIPIENTS,
    )


def _own_bulk_job(session: SessionDep, user: User, job_id: str) -> BulkJob:
    """The bulk job ``job_id`` if ``user`` may see it (theirs, or any for an admin); else 404."""
    job = crud.get_bulk_job(session, job_id=job_id)
    if job is None or (not user.is_admin and job.user_id != user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="bulk job not found")
    return job


@router.get("/bulk/{job_id}", response_model=BulkJobPublic)
def read_bulk_job(
    job_id: str,
    session: SessionDep,
    messenger: MessengerDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> BulkJobPublic:
    """Progress and per-recipient results of a bulk job (yours; admins see all).

    ``limit``/``offset`` page through ``results``; the counters always cover the whole job.
    """
    job = _own_bulk_job(session, user, job_id)
    counts = BulkJobs.job_counts(session, job.id)
    rows = crud.list_recipients(session, job_id=job.id, limit=limit, offset=offset)
    pending = counts.get("pending", 0)
    config = messenger.config
    on_its_way = delivery(
        job,
        crud.count_created(session, job_id=job.id),
        sender=crud.bulk_job_sender(session, job_id=job.id),
        mps=messenger.settings.MOCK_EMULATOR_MPS if config.mode == "mock" else None,
    )
    return BulkJobPublic(
        job_id=job.id,
        type=job.type,
        status=job.status,
        total=job.total,
        accepted=job.accepted,
        duplicates=job.duplicates,
        invalid=[InvalidRecipient(**item) for item in job.invalid],
        invalid_count=job.total - job.accepted - job.duplicates,
        done=sum(counts.values()) - pending,
        pending=pending,
        counts=counts,
        delivery=BulkDelivery(**asdict(on_its_way)),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        results=[
            BulkRecipientPublic(
                to=m.to_number,
                status=m.status,
                message_sid=m.message_sid,
                error_code=m.error_code,
                error=m.error,
            )
            for m in rows
        ],
    )


@router.get("/bulk/{job_id}/invalid", response_model=BulkInvalidPage)
def read_bulk_invalid(
    job_id: str,
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> BulkInvalidPage:
    """Every number a bulk job rejected (yours; admins see all), in request order, paged."""
    job = _own_bulk_job(session, user, job_id)
    rows, count = crud.list_bulk_invalid(session, job_id=job.id, limit=limit, offset=offset)
    return BulkInvalidPage(
        data=[InvalidRecipient(**row) for row in rows], count=count, limit=limit, offset=offset
    )


# ---------------------------------------------------------------------------- status & history


@router.get("/message-status/{message_sid}", response_model=MessagePublic)
def message_status(
    message_sid: str, session: SessionDep, messenger: MessengerDep, user: CurrentUser
) -> MessagePublic:
    """A message's status from the database, refreshed from Twilio when not final."""
    message = crud.get_message_by_sid(session, message_sid=message_sid)
    if message is None or (not user.is_admin and message.user_id != user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="message not found")
    refresh_status(messenger, session, message)
    return message_public(message)


@router.get("/messages", response_model=MessagesPublic)
def list_messages(
    session: SessionDep,
    messenger: MessengerDep,
    user: CurrentUser,
    type: Annotated[Literal["sms", "whatsapp"] | None, Query()] = None,
    status_: Annotated[
        str | None,
        Query(
            alias="status",
            max_length=24,
            description="one of: " + ", ".join(MESSAGE_STATUSES),
            json_schema_extra={"enum": list(MESSAGE_STATUSES)},
        ),
    ] = None,
    direction: Annotated[Literal["inbound", "outbound"] | None, Query()] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    date_from: Annotated[UtcDateTime | None, Query()] = None,
    date_to: Annotated[UtcDateTimeUntil | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> MessagesPublic:
    """Message history (yours; admins see all), newest first, with filters and paging."""
    to_e164 = None
    if to:
        try:
            to_e164 = messenger.normalize(to)
        except InvalidPhoneNumber as exc:
            raise unprocessable(
                "to", f"not a valid phone number: {exc.reason}", where="query"
            ) from None
    if status_ is not None and status_ not in MESSAGE_STATUSES:
        raise unprocessable(
            "status", "must be one of: " + ", ".join(MESSAGE_STATUSES), where="query"
        )
    if date_from is not None and date_to is not None and date_from > date_to:
        raise unprocessable("date_to", "is before date_from", where="query")
    rows, count = crud.list_messages(
        session,
        user_id=None if user.is_admin else user.id,
        type_=type,
        status=status_,
        direction=direction,
        to=to_e164,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        offset=offset,
    )
    return MessagesPublic(
        data=[message_public(m) for m in rows], count=count, limit=limit, offset=offset
    )


# ---------------------------------------------------------------------------- preferences


@router.get("/preferences", response_model=PreferencesPublic)
def read_preferences(user: CurrentUser) -> User:
    """Your messaging preferences."""
    return user


@router.put("/preferences", response_model=PreferencesPublic)
def update_preferences(
    body: PreferencesUpdate, session: SessionDep, messenger: MessengerDep, user: CurrentUser
) -> User:
    """Change your messaging preferences (omitted fields keep their value)."""
    sent = body.model_fields_set
    phone = _e164(messenger, "phone_number", body.phone_number) if body.phone_number else None
    return crud.update_preferences(
        session,
        user=user,
        phone_number=phone,
        clear_phone_number="phone_number" in sent and phone is None,
        sms_enabled=body.sms_enabled if "sms_enabled" in sent else None,
        whatsapp_enabled=body.whatsapp_enabled if "whatsapp_enabled" in sent else None,
    )
