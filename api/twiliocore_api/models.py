"""SQLAlchemy 2 ORM models (typed ``Mapped`` columns), portable to SQLite and PostgreSQL.

Every schema change comes with an Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "BulkInvalid",
    "BulkJob",
    "Job",
    "Message",
    "Notification",
    "OptOut",
    "SmsSettings",
    "StatusEvent",
    "User",
    "WebhookEvent",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store in UTC."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    """Declarative base of every model."""

    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012


class User(Base):
    """An account of the service, with its messaging preferences."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), default=None)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    whatsapp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Carried in every login token; a password change bumps it, so older tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == "admin"


class SmsSettings(Base):
    """Twilio credentials set through the API (one row, id 1); the auth token is encrypted."""

    __tablename__ = "sms_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_sid: Mapped[str] = mapped_column(String(34))
    auth_token_encrypted: Mapped[str] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(String(32), default=None)
    whatsapp_number: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class BulkJob(Base):
    """A bulk send; its recipients are :class:`Message` rows with ``bulk_job_id`` set."""

    __tablename__ = "bulk_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    # The first rejected numbers (all of them are in BulkInvalid).
    invalid: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # The highest recipient (Message.id) handed to the fan-out, committed before it is
    # handed over: a recipient at or below it without an outcome may have been sent.
    submitted_through: Mapped[int | None] = mapped_column(Integer, default=None)


class BulkInvalid(Base):
    """A number of a bulk request rejected before sending, in the order it was given."""

    __tablename__ = "bulk_invalid"
    __table_args__ = (Index("ix_bulk_invalid_job_position", "bulk_job_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulk_job_id: Mapped[str] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Message(Base):
    """An SMS or WhatsApp message, outbound or inbound.

    Outbound messages are written with status ``pending`` before the request to Twilio
    and updated with its answer, then by status callbacks (never backwards).
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_user_created", "user_id", "created_at"),
        Index("ix_messages_bulk_job_to", "bulk_job_id", "to_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str | None] = mapped_column(String(34), unique=True, default=None)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    bulk_job_id: Mapped[str | None] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="CASCADE"), default=None
    )
    type: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(64), index=True)
    from_number: Mapped[str | None] = mapped_column(String(64), default=None)
    body: Mapped[str] = mapped_column(Text, default="")
    media_url: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(24), index=True)
    num_segments: Mapped[int | None] = mapped_column(Integer, default=None)
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StatusEvent(Base):
    """Every status callback received, once.

    Kept so that a callback which beats the send's answer is applied once the SID is known.
    ``receipt_key`` is what the signature covers that makes the event itself (message,
    status, error code): a replay with another ``I-Twilio-Idempotency-Token``, or none, is
    the same key and is not stored again. ``applied`` is false while the event waits in the
    inbox for the batch applier (:mod:`twiliocore_api.services.inbound.inbox`).
    """

    __tablename__ = "status_events"
    __table_args__ = (
        UniqueConstraint("receipt_key", name="uq_status_events_receipt_key"),
        Index("ix_status_events_applied_id", "applied", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(34), index=True)
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Rows older than the key have none (NULLs never collide in a unique index).
    receipt_key: Mapped[str | None] = mapped_column(String(80), default=None)
    applied: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())


class WebhookEvent(Base):
    """An ``I-Twilio-Idempotency-Token`` already processed (its retries are acknowledged)."""

    __tablename__ = "webhook_events"

    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class OptOut(Base):
    """A number that replied STOP (``opted_out``) or later START (no longer opted out)."""

    __tablename__ = "opt_outs"

    phone_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    keyword: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Notification(Base):
    """An in-app notification for a user (from ``notify_user``)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A unit of queued work (a bulk send, a timed task): what to run, and who holds it.

    The work's own record (e.g. the :class:`BulkJob` and its recipients) is written in the
    same transaction as this row; this row only says "work on this", and when. A worker
    claims it by setting ``lease_owner``/``lease_token``/``lease_expires_at`` with a
    conditional update, extends the lease while it works, and marks it ``done`` after the
    work; a lease left to expire (the worker died) is put back to ``queued``.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("kind", "ref", name="uq_jobs_kind_ref"),
        Index("ix_jobs_status_run_at", "status", "run_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    # What the work is about (e.g. a bulk job id): one live job per (kind, ref).
    ref: Mapped[str | None] = mapped_column(String(255), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued -> running -> done | failed (running -> queued when released or expired).
    status: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    lease_owner: Mapped[str | None] = mapped_column(String(255), default=None)
    lease_token: Mapped[str | None] = mapped_column(String(36), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
