"""Request and response bodies (pydantic v2), with the constraints that turn bad input into 422.

Naming follows ``XBase`` / ``XCreate`` / ``XUpdate`` / ``XPublic`` / ``XsPublic``. Phone
numbers are normalised to E.164 by the routes (they need the configured default region);
everything else is checked here, so a 422 names the field and the reason.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from twiliocore.errors import InvalidPhoneNumber
from twiliocore.phone import to_e164

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_INT",
    "MAX_NUMBER_CHARS",
    "MAX_UNKNOWN_FIELDS",
    "BulkAccepted",
    "BulkJobPublic",
    "BulkRecipientPublic",
    "BulkSendRequest",
    "ErrorMessage",
    "HealthPublic",
    "InvalidRecipient",
    "LoginRequest",
    "MessagePublic",
    "MessagesPublic",
    "NotificationCreate",
    "NotificationPublic",
    "NotificationResult",
    "NotificationsPublic",
    "PasswordChange",
    "PreferencesPublic",
    "PreferencesUpdate",
    "SendResult",
    "SmsSendRequest",
    "SmsSettingsPublic",
    "SmsSettingsUpdate",
    "TestConnectionResult",
    "Token",
    "UtcDateTime",
    "UtcDateTimeUntil",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
    "UsersPublic",
    "WhatsAppBulkSendRequest",
    "WhatsAppSendRequest",
]

MAX_BODY_CHARS = 1600
# The longest phone number or channel address accepted as text (before normalisation).
MAX_NUMBER_CHARS = 64
"""Twilio's limit on a message body (error 21617 beyond it)."""


MAX_INT = 2**31 - 1
"""The largest id or offset accepted: what an INTEGER column holds on PostgreSQL."""


class ErrorMessage(BaseModel):
    """The body of every error answer but 422: ``{"detail": "what went wrong"}``.

    (422 answers carry a list instead: ``{"detail": [{"loc", "field", "msg", "type"}]}``.)
    """

    detail: str = Field(description="what went wrong, in words")


def _in_utc(value: datetime) -> datetime:
    # Naive means UTC (what the database stores); an aware time must still exist in UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    # pydantic reads a number as seconds (or milliseconds) since 1970: "20261205" would be
    # 1970-08-23, not 5 December 2026. Only ISO 8601 text is a date here.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(
            "must be an ISO 8601 date or date-time such as 2026-12-05 or "
            "2026-12-05T10:00:00Z, not a number"
        )
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]
"""A date-time read as UTC when it has no offset; 422 when it falls outside year 1-9999 in UTC.

Only ISO 8601 text: a number (which pydantic would read as a Unix time) is a 422.
"""


def _end_of_day(value: Any) -> Any:
    # "2026-12-05" as the end of a range means all of that day, not its first instant.
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value + "T23:59:59.999999"
    return value


UtcDateTimeUntil = Annotated[UtcDateTime, BeforeValidator(_end_of_day)]
"""A :data:`UtcDateTime` that ends a range: a date alone means the end of that day (UTC)."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


PhoneStr = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NUMBER_CHARS)
]
MessageBody = Annotated[
    str, Field(min_length=1, max_length=MAX_BODY_CHARS), AfterValidator(_not_blank)
]


def _fetchable_url(value: str) -> str:
    # What Twilio fetches the media from: it must parse, with a host and a valid port
    # (urlsplit's own words would quote the input, so they are not passed on).
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError("is not a valid URL: its host cannot be parsed") from None
    if not parts.hostname:
        raise ValueError("is not a valid URL: it has no host")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError("is not a valid URL: its port is not a number from 0 to 65535") from None
    if not value.isprintable():
        raise ValueError("is not a valid URL: it holds control characters")
    return value


MediaUrl = Annotated[
    str,
    Field(min_length=1, max_length=2048, pattern=r"^https?://\S+$"),
    AfterValidator(_fetchable_url),
]


MAX_UNKNOWN_FIELDS = 20
"""The most unknown fields a 422 lists: each is one error, and a body can hold a million."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        # Listing every one of a million unknown keys takes the event loop seconds and
        # answers tens of megabytes: past MAX_UNKNOWN_FIELDS, the rest go unlisted.
        fields = cls.model_fields
        if not isinstance(data, dict) or len(data) <= len(fields) + MAX_UNKNOWN_FIELDS:
            return data
        unknown = (key for key in data if key not in fields)
        listed = set(itertools.islice(unknown, MAX_UNKNOWN_FIELDS))
        return {key: value for key, value in data.items() if key in fields or key in listed}

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text, and no phone, address or password needs it.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


# ---------------------------------------------------------------------------- auth / users


class LoginRequest(_Strict):
    """Credentials for ``POST /api/auth/login``."""

    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class Token(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105


Role = Literal["admin", "user"]
"""The roles a user can hold."""

NewPassword = Annotated[str, Field(min_length=8, max_length=1024)]
"""A password being set: the same rules for a new user and a changed password."""


class UserBase(BaseModel):
    """Fields shared by user bodies."""

    email: EmailStr
    role: Role = "user"
    phone_number: PhoneStr | None = None


class UserCreate(UserBase, _Strict):
    """Body of ``POST /api/users``."""

    password: NewPassword


class UserUpdate(_Strict):
    """Body of ``PATCH /api/users/{id}`` (admin); omitted fields keep their value.

    ``phone_number: null`` removes the number; the switches take JSON true/false only.
    """

    role: Role | None = None
    is_active: StrictBool | None = None
    phone_number: PhoneStr | None = None
    sms_enabled: StrictBool | None = None
    whatsapp_enabled: StrictBool | None = None

    @field_validator("role", "is_active", "sms_enabled", "whatsapp_enabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null (omit it to keep the current value)")
        return value


class PasswordChange(_Strict):
    """Body of ``POST /api/users/me/password``."""

    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: NewPassword

    @field_validator("new_password")
    @classmethod
    def _differs(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("current_password"):
            raise ValueError("must differ from current_password")
        return value


class UserPublic(BaseModel):
    """A user as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: str
    is_active: bool
    phone_number: str | None
    sms_enabled: bool
    whatsapp_enabled: bool
    created_at: datetime


class UsersPublic(BaseModel):
    """A page of users."""

    data: list[UserPublic]
    count: int
    skip: int
    limit: int


# ---------------------------------------------------------------------------- settings


def _e164_in_region(value: str | None, info: ValidationInfo) -> str | None:
    # The service's default region comes in the validation context (it is configuration);
    # without one, only international (+...) numbers are accepted.
    if value is None:
        return None
    region = (info.context or {}).get("region", "")
    number = value.removeprefix("whatsapp:")
    try:
        return to_e164(number, region)
    except InvalidPhoneNumber as exc:
        # Worded as the routes word a number they normalise ("not a valid phone number: ...").
        raise PydanticCustomError(
            "value_error", "not a valid phone number: {reason}", {"reason": exc.reason}
        ) from None


class SmsSettingsUpdate(_Strict):
    """Body of ``POST /api/sms/settings``.

    One 422 lists every invalid field. The numbers are normalised to E.164 (in the
    service's ``DEFAULT_REGION`` when written without ``+``). ``verify`` (default true)
    checks the credentials with Twilio before they are stored.
    """

    # Validated with model_validate(data, context={"region": DEFAULT_REGION}), so that the
    # numbers are checked in the same pass as the other fields.

    account_sid: Annotated[str, Field(pattern=r"^AC[0-9a-fA-F]{32}$")]
    auth_token: Annotated[str, Field(min_length=8, max_length=256)]
    phone_number: PhoneStr | None = None
    whatsapp_number: PhoneStr | None = None
    verify: StrictBool = True

    @field_validator("phone_number", "whatsapp_number")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _e164_in_region(value, info)

    @field_validator("auth_token")
    @classmethod
    def _token_printable(cls, value: str) -> str:
        if not value.isascii() or not value.isprintable() or " " in value:
            raise ValueError("must be printable ASCII without spaces")
        return value


class SmsSettingsPublic(BaseModel):
    """The effective Twilio settings, with the auth token masked."""

    account_sid: str | None
    auth_token_masked: str | None
    phone_number: str | None
    whatsapp_number: str | None
    configured: bool
    mode: Literal["live", "mock"]
    source: Literal["database", "environment", "emulator"]
    updated_at: datetime | None = None


class TestConnectionResult(BaseModel):
    """Outcome of ``POST /api/sms/test-connection``."""

    success: bool
    mode: Literal["live", "mock"]
    account_sid: str | None = None
    friendly_name: str | None = None
    status: str | None = None
    error: str | None = None
    error_code: int | None = None


# ---------------------------------------------------------------------------- sending


class SmsSendRequest(_Strict):
    """Body of ``POST /api/sms/send``."""

    to_number: PhoneStr
    message: MessageBody
    from_number: PhoneStr | None = None


class WhatsAppSendRequest(_Strict):
    """Body of ``POST /api/sms/whatsapp/send``."""

    to_number: PhoneStr
    message: MessageBody
    media_url: MediaUrl | None = None


class BulkSendRequest(_Strict):
    """Body of ``POST /api/sms/send-bulk``."""

    # fail_fast: the first bad item is the error; listing each of a million nulls would
    # hold the event loop for seconds and answer a hundred megabytes.
    phone_numbers: Annotated[
        list[Annotated[str, Field(max_length=MAX_NUMBER_CHARS)]],
        Field(min_length=1, fail_fast=True),
    ]
    message: MessageBody


class WhatsAppBulkSendRequest(BulkSendRequest):
    """Body of ``POST /api/sms/whatsapp/send-bulk``."""

    media_url: MediaUrl | None = None


class SendResult(BaseModel):
    """Outcome of a single send: the shape of ``SMSService.send_sms``'s result."""

    model_config = ConfigDict(populate_by_name=True)

    success: bool
    message_sid: str | None
    status: str
    to: str
    from_: str | None = Field(default=None, alias="from")
    type: Literal["sms", "whatsapp"]
    num_segments: int | None = None
    error: str | None = None
    error_code: int | None = None


class InvalidRecipient(BaseModel):
    """A bulk recipient rejected before sending."""

    number: str
    reason: str


class BulkAccepted(BaseModel):
    """Answer of the bulk routes (HTTP 202).

    ``invalid`` lists the first rejected numbers (at most 100); ``invalid_count`` counts
    them all, paged from ``GET /api/sms/bulk/{job_id}/invalid``.
    """

    job_id: str
    status: str
    total: int
    accepted: int
    duplicates: int
    refused: int
    invalid: list[InvalidRecipient]
    invalid_count: int


class BulkInvalidPage(BaseModel):
    """A page of a bulk job's rejected numbers, in request order."""

    data: list[InvalidRecipient]
    count: int
    limit: int
    offset: int


class BulkRecipientPublic(BaseModel):
    """One recipient's outcome in a bulk job."""

    to: str
    status: str
    message_sid: str | None
    error_code: int | None
    error: str | None


class BulkDelivery(BaseModel):
    """Where a bulk job's messages are after Twilio took them, and when the rest will go."""

    accepted_by_twilio: int = Field(description="Messages Twilio created (a SID is recorded).")
    queued_at_twilio: int = Field(
        description="Still waiting in the sender's queue at Twilio (accepted, queued, sending)."
    )
    sent: int
    delivered: int = Field(description="Delivered (or read, on WhatsApp).")
    failed: int = Field(description="Failed, undelivered or canceled after Twilio took them.")
    sender_rate: float = Field(
        description="Segments per second Twilio releases from this sender's queue."
    )
    eta_seconds: float | None = Field(
        description="Seconds until the queue at Twilio is drained at that rate (this job's "
        "messages only); null once nothing waits."
    )


class BulkJobPublic(BaseModel):
    """Progress and per-recipient results of a bulk job."""

    job_id: str
    type: str
    status: str
    total: int
    accepted: int
    duplicates: int
    invalid: list[InvalidRecipient]
    invalid_count: int
    done: int
    pending: int
    counts: dict[str, int]
    delivery: BulkDelivery
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    results: list[BulkRecipientPublic]


class MessagePublic(BaseModel):
    """A message in the history."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    message_sid: str | None
    to: str
    from_: str | None = Field(alias="from")
    type: str
    direction: str
    body: str
    media_url: str | None = None
    status: str
    num_segments: int | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    error_code: int | None
    error: str | None
    bulk_job_id: str | None = None


class MessagesPublic(BaseModel):
    """A page of message history."""

    data: list[MessagePublic]
    count: int
    limit: int
    offset: int


# ---------------------------------------------------------------------------- preferences


class PreferencesPublic(BaseModel):
    """The current user's messaging preferences."""

    model_config = ConfigDict(from_attributes=True)

    sms_enabled: bool
    whatsapp_enabled: bool
    phone_number: str | None


class PreferencesUpdate(_Strict):
    """Body of ``PUT /api/sms/preferences``; omitted fields keep their value."""

    # JSON true/false only: "yes", "off", 0 or 1 are a 422, not a guess at what was meant.
    sms_enabled: StrictBool | None = None
    whatsapp_enabled: StrictBool | None = None
    phone_number: PhoneStr | None = None

    @field_validator("sms_enabled", "whatsapp_enabled")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        # Only an omitted field keeps its value; null is not a choice (phone_number: clears).
        if value is None:
            raise ValueError("must be true or false (omit it to keep the current value)")
        return value


# ---------------------------------------------------------------------------- notifications


def _not_a_bool(value: Any) -> Any:
    # pydantic reads true as 1: a switch is not a user id (user 1 is the first admin).
    if isinstance(value, bool):
        raise ValueError("must be a user id (an integer), not true or false")
    return value


class NotificationCreate(_Strict):
    """Body of ``POST /api/notifications`` (admin): ``notify_user`` over HTTP."""

    user_id: Annotated[int, Field(ge=1, le=MAX_INT), BeforeValidator(_not_a_bool)]
    message: MessageBody


class NotificationPublic(BaseModel):
    """An in-app notification."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    message: str
    channels: list[dict[str, Any]]
    created_at: datetime


class NotificationResult(NotificationPublic):
    """What ``notify_user`` did."""

    user_id: int


class NotificationsPublic(BaseModel):
    """The current user's notifications, newest first."""

    data: list[NotificationPublic]
    count: int


# ---------------------------------------------------------------------------- health


class HealthPublic(BaseModel):
    """Answer of ``GET /api/health``."""

    status: Literal["ok", "degraded"]
    mode: Literal["live", "mock"]
    database_reachable: bool
    twilio_reachable: bool
    twilio_error: str | None = None
    version: str
