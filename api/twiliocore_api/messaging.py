"""The service's layer over twiliocore's public API: configuration, sends, notify.

:class:`Messenger` owns the effective Twilio configuration (stored settings win over the
environment; with neither, or with ``MESSAGING_USE_MOCK``, the bundled emulator runs
in-process: *mock mode*) and the :class:`twiliocore.SMSService` built from it, rebuilt
when the settings change. Every send is written to the database before the request and
updated after it, so a crash never leaves a sent message unrecorded.

Bulk jobs are in :mod:`twiliocore_api.services.bulk`. Workflow code calls
:func:`notify_user` (or :meth:`Messenger.notify_user`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import twiliocore
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from twiliocore.phone import to_e164

from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.security import DecryptionError, KeyRing
from twiliocore_api.models import Message, User, utcnow
from twiliocore_api.schemas import NotificationCreate

__all__ = [
    "INCOMING_PATH",
    "STATUS_PATH",
    "EffectiveConfig",
    "Messenger",
    "MessengerUnavailable",
    "notify_user",
]

logger = logging.getLogger("twiliocore_api")

STATUS_PATH = "/webhook/twilio/status"
INCOMING_PATH = "/webhook/twilio/incoming"
_CREDENTIALS_CONTEXT = "sms_settings.auth_token"
# Twilio's error for a send to a recipient who replied STOP (the service refuses with it too).
_OPTED_OUT_CODE = 21610

# Senders the bundled emulator owns by default (Twilio's test sender and WhatsApp sandbox).
MOCK_PHONE_NUMBER = "+15005550006"
MOCK_WHATSAPP_NUMBER = "+14155238886"

# Messengers of the services running in this process, most recently started last.
_running: list[Messenger] = []
_running_lock = threading.Lock()


class MessengerUnavailable(RuntimeError):
    """Raised when messaging is used outside a running service (no lifespan started)."""


@dataclass(frozen=True)
class EffectiveConfig:
    """The Twilio configuration in force; the auth token is hidden from ``repr``."""

    mode: str
    source: str
    account_sid: str | None
    auth_token: str | None = field(repr=False)
    phone_number: str | None
    whatsapp_number: str | None
    base_url: str | None
    updated_at: Any = None

    @property
    def configured(self) -> bool:
        """True when real (non-emulator) credentials are in force."""
        return self.mode == "live" and bool(self.account_sid and self.auth_token)


def _strip_channel(address: str | None) -> str | None:
    if address and address.startswith("whatsapp:"):
        return address[len("whatsapp:") :]
    return address


class Messenger:
    """The messaging side of one running service.

    Thread-safe: routes (in a thread pool), webhooks and bulk worker threads share it.

    Args:
        settings: the service settings.
        session_factory: makes database sessions.
        keyring: keys derived from ``SECRET_KEY`` (decrypts stored credentials).
    """

    def __init__(
        self, settings: Settings, session_factory: sessionmaker[Session], keyring: KeyRing
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.keyring = keyring
        self._lock = threading.RLock()
        self._emulator: Any = None
        self._config: EffectiveConfig | None = None
        self._service: Any = None
        self._workers: set[threading.Thread] = set()
        self._jobs: dict[str, Any] = {}
        self._retired: list[Any] = []
        self._stopping = threading.Event()
        self._health_cache: tuple[float, bool, str | None] | None = None

    def __repr__(self) -> str:
        config = self._config
        return f"Messenger(mode={config.mode if config else None!r})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Load the configuration (starting the emulator in mock mode) and register globally."""
        self.reload()
        with _running_lock:
            _running.append(self)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Wait briefly for bulk workers, then stop the emulator."""
        with _running_lock:
            if self in _running:
                _running.remove(self)
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        for worker in list(self._workers):
            worker.join(timeout)
        with self._lock:
            services = [*self._retired, self._service]
            self._retired.clear()
            self._service = None
            emulator, self._emulator = self._emulator, None
        for service in services:
            close = getattr(service, "close", None)
            if close is not None:
                close()
        if emulator is not None:
            emulator.stop()

    def reload(self) -> EffectiveConfig:
        """Rebuild the configuration and the SMSService (after the settings changed)."""
        with self.session_factory() as session:
            row = crud.get_sms_settings(session)
            stored: EffectiveConfig | None = None
            if row is not None:
                try:
                    token = self.keyring.decrypt(
                        row.auth_token_encrypted, context=_CREDENTIALS_CONTEXT
                    )
                except DecryptionError as exc:
                    logger.error("ignoring stored Twilio settings: %s", exc)
                else:
                    stored = EffectiveConfig(
                        mode="live",
                        source="database",
                        account_sid=row.account_sid,
                        auth_token=token,
                        phone_number=row.phone_number,
                        whatsapp_number=row.whatsapp_number,
                        base_url=self.settings.TWILIO_API_BASE_URL,
                        updated_at=row.updated_at,
                    )
        s = self.settings
        if s.MESSAGING_USE_MOCK:
            config = self._mock_config()
        elif stored is not None:
            config = stored
        elif s.env_credentials_configured:
            assert s.TWILIO_AUTH_TOKEN is not None
            config = EffectiveConfig(
                mode="live",
                source="environment",
                account_sid=s.TWILIO_ACCOUNT_SID,
                auth_token=s.TWILIO_AUTH_TOKEN.get_secret_value(),
                phone_number=s.TWILIO_PHONE_NUMBER,
                whatsapp_number=s.TWILIO_WHATSAPP_NUMBER,
                base_url=s.TWILIO_API_BASE_URL,
            )
        else:
            config = self._mock_config()
        service = twiliocore.SMSService(
            config.account_sid,
            config.auth_token,
            config.phone_number,
            config.whatsapp_number,
            base_url=config.base_url,
        )
        if config.mode == "live" and not config.base_url and not s.WEBHOOK_BASE_URL:
            logger.warning(
                "WEBHOOK_BASE_URL is not set: Twilio cannot reach this service, so messages "
                "are sent without a StatusCallback and incoming messages are not received; "
                "set it to the service's public URL"
            )
        with self._lock:
            if self._service is not None:
                # Requests may still be in flight on it: close it when the service stops.
                self._retired.append(self._service)
            self._config = config
            self._service = service
            self._health_cache = None
        return config

    def _mock_config(self) -> EffectiveConfig:
        from twiliocore.emulator import Emulator

        s = self.settings
        phone = s.TWILIO_PHONE_NUMBER or MOCK_PHONE_NUMBER
        whatsapp = s.TWILIO_WHATSAPP_NUMBER or MOCK_WHATSAPP_NUMBER
        with self._lock:
            if self._emulator is None:
                emulator = Emulator(
                    "127.0.0.1",
                    0,
                    phone_numbers=[phone, f"whatsapp:{whatsapp}"],
                    sms_url=self.settings.public_base_url + INCOMING_PATH,
                    mps=s.MOCK_EMULATOR_MPS,
                )
                emulator.start()
                self._emulator = emulator
                logger.warning(
                    "MOCK MODE: %s; messages go to the bundled Twilio emulator at %s and "
                    "never reach a phone. Configure TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN "
                    "or POST /api/sms/settings for live mode.",
                    "MESSAGING_USE_MOCK is set"
                    if s.MESSAGING_USE_MOCK
                    else "no Twilio credentials configured",
                    emulator.url,
                )
            emulator = self._emulator
        return EffectiveConfig(
            mode="mock",
            source="emulator",
            account_sid=emulator.account_sid,
            auth_token=emulator.auth_token,
            phone_number=phone,
            whatsapp_number=whatsapp,
            base_url=emulator.url,
        )

    @property
    def config(self) -> EffectiveConfig:
        """The configuration in force."""
        config = self._config
        if config is None:
            raise MessengerUnavailable("the messaging layer has not been started")
        return config

    @property
    def emulator(self) -> Any:
        """The in-process emulator (mock mode), or ``None``."""
        return self._emulator

    def _current(self) -> tuple[EffectiveConfig, Any]:
        with self._lock:
            if self._config is None or self._service is None:
                raise MessengerUnavailable("the messaging layer has not been started")
            return self._config, self._service

    def validator(self) -> twiliocore.RequestValidator | None:
        """A signature validator for the auth token in force (``None`` without one)."""
        token = self.config.auth_token
        return twiliocore.RequestValidator(token) if token else None

    def client(self) -> Any:
        """The :class:`twiliocore.Client` of the configuration in force."""
        config, service = self._current()
        client = getattr(service, "client", None)
        if client is None:
            client = twiliocore.Client(
                config.account_sid, config.auth_token, base_url=config.base_url
            )
        return client

    @property
    def status_callback_url(self) -> str | None:
        """Where Twilio posts status callbacks for our messages.

        ``None`` (no StatusCallback) when talking to the real Twilio without a
        ``WEBHOOK_BASE_URL``: Twilio could not reach the service's local address, and
        statuses are then refreshed from Twilio when read.
        """
        config = self._config
        if config is not None and config.mode == "live" and not config.base_url:
            if not self.settings.WEBHOOK_BASE_URL:
                return None
        return self.settings.public_base_url + STATUS_PATH

    # ------------------------------------------------------------------ settings

    def save_settings(
        self,
        session: Session,
        *,
        account_sid: str,
        auth_token: str,
        phone_number: str | None,
        whatsapp_number: str | None,
        user_id: int | None,
    ) -> EffectiveConfig:
        """Store credentials (the token encrypted) and put them in force at once."""
        from twiliocore_api.models import SmsSettings

        encrypted = self.keyring.encrypt(auth_token, context=_CREDENTIALS_CONTEXT)
        row = crud.get_sms_settings(session)
        if row is None:
            row = SmsSettings(id=1, account_sid=account_sid, auth_token_encrypted=encrypted)
            session.add(row)
        row.account_sid = account_sid
        row.auth_token_encrypted = encrypted
        row.phone_number = phone_number
        row.whatsapp_number = whatsapp_number
        row.updated_by = user_id
        row.updated_at = utcnow()
        session.commit()
        config = self.reload()
        logger.info("Twilio settings updated (account %s, mode %s)", account_sid, config.mode)
        return config

    # ------------------------------------------------------------------ numbers

    def normalize(self, number: str) -> str:
        """A number in E.164 (``InvalidPhoneNumber`` when it is not one)."""
        return to_e164(_strip_channel(number) or "", self.settings.DEFAULT_REGION)

    # ------------------------------------------------------------------ single sends

    def missing_sender(self, kind: str, from_number: str | None = None) -> str | None:
        """Why a ``kind`` message cannot be sent for want of a sender, or ``None`` if it can.

        SMS goes from ``from_number`` or the configured phone number, WhatsApp from the
        configured WhatsApp number; a configuration without one cannot send that kind.
        """
        config = self.config
        if kind == "whatsapp":
            if config.whatsapp_number:
                return None
            return (
                "no WhatsApp sender is configured: set whatsapp_number with "
                "POST /api/sms/settings (or TWILIO_WHATSAPP_NUMBER)"
            )
        if from_number or config.phone_number:
            return None
        return (
            "no SMS sender is configured: pass from_number, or set phone_number with "
            "POST /api/sms/settings (or TWILIO_PHONE_NUMBER)"
        )

    def send(
        self,
        session: Session,
        *,
        user_id: int | None,
        kind: str,
        to_number: str,
        body: str,
        from_number: str | None = None,
        media_url: str | None = None,
    ) -> tuple[Message, dict[str, Any]]:
        """Record, send and update one message; returns the row and the send result.

        ``to_number`` must already be E.164. An opted-out recipient is recorded as
        ``refused`` and nothing is sent.
        """
        config, service = self._current()
        sender = from_number or (
            config.whatsapp_number if kind == "whatsapp" else config.phone_number
        )
        message = crud.create_message(
            session,
            user_id=user_id,
            type=kind,
            direction="outbound-api",
            to_number=to_number,
            from_number=sender,
            body=body,
            media_url=media_url,
            status="pending",
        )
        if crud.is_opted_out(session, phone_number=to_number):
            message.status = "refused"
            message.error_code = _OPTED_OUT_CODE
            message.error = (
                f"not sent: {to_number} has opted out (replied STOP); "
                "they can opt back in by replying START"
            )
            session.commit()
            return message, self._result(message, success=False)
        try:
            result = self._send_one(service, kind, to_number, body, from_number, media_url)
        except Exception as exc:  # the library reports failures in the result; be safe
            logger.exception("send failed unexpectedly (message id %s)", message.id)
            result = {"success": False, "error": f"send failed: {type(exc).__name__}"}
        self._record_result(session, message, result)
        return message, self._result(message, success=bool(result.get("success")))

    def _send_one(
        self,
        service: Any,
        kind: str,
        to_number: str,
        body: str,
        from_number: str | None,
        media_url: str | None,
    ) -> dict[str, Any]:
        """One send with our status callback URL, as an ``SMSService`` result dict."""
        if kind == "whatsapp":
            result = service.send_whatsapp(
                to_number, body, media_url, status_callback=self.status_callback_url
            )
        else:
            result = service.send_sms(
                to_number, body, from_number, media_url, status_callback=self.status_callback_url
            )
        return dict(result)

    def _record_result(
        self,
        session: Session,
        message: Message,
        result: Mapping[str, Any],
        *,
        commit: bool = True,
    ) -> None:
        now = utcnow()
        if result.get("success") and result.get("message_sid"):
            message.message_sid = str(result["message_sid"])
            message.sent_at = message.sent_at or now
            message.num_segments = _int_or_none(result.get("num_segments"))
            sender = _strip_channel(result.get("from"))
            if sender:
                message.from_number = sender
            crud.apply_status(message, status=str(result.get("status") or "queued"))
        else:
            status = str(result.get("status") or "failed")
            message.status = "unknown" if status == "unknown" else "failed"
            message.error_code = _int_or_none(result.get("error_code"))
            message.error = str(result.get("error") or crud.describe_error_code(message.error_code))
            if message.error_code == _OPTED_OUT_CODE:
                # Twilio knows of an opt-out this service never saw (a STOP sent elsewhere):
                # the send is refused, as one the service refuses itself.
                message.status = "refused"
                message.error = (
                    f"not sent: Twilio reports that {message.to_number} has opted out "
                    f"(error {_OPTED_OUT_CODE}); they can opt back in by replying START"
                )
        if commit:
            session.commit()
            self._catch_up(session, [message])

    @staticmethod
    def _catch_up(session: Session, messages: Iterable[Message]) -> None:
        """Apply status callbacks that arrived before the SIDs were committed.

        Runs in a transaction that starts after the SIDs were committed; the webhook does
        the mirror check after committing its event, so one of the two always sees the other.
        """
        changed = False
        for message in messages:
            if message.message_sid is not None:
                crud.apply_pending_events(session, message=message)
                changed = True
        if changed:
            session.commit()

    @staticmethod
    def _result(message: Message, *, success: bool) -> dict[str, Any]:
        return {
            "success": success,
            "message_sid": message.message_sid,
            "status": message.status,
            "to": message.to_number,
            "from": message.from_number,
            "type": message.type,
            "num_segments": message.num_segments,
            "error": message.error,
            "error_code": message.error_code,
        }

    def refresh_status(self, session: Session, message: Message) -> None:
        """Ask Twilio for a non-final outbound message's status and apply it (forward only)."""
        if (
            message.message_sid is None
            or message.direction != "outbound-api"
            or message.status in crud.FINAL_STATUSES
            or message.status == "delivered"
        ):
            return
        _config, service = self._current()
        try:
            result = dict(service.get_message_status(message.message_sid))
        except Exception as exc:  # refreshing is best effort; the stored status stands
            logger.warning("status refresh of %s failed: %s", message.message_sid, type(exc))
            return
        status = result.get("status")
        if result.get("success", True) and status:
            crud.apply_status(
                message, status=str(status), error_code=_int_or_none(result.get("error_code"))
            )
            session.commit()

    # ------------------------------------------------------------------ test connection

    def test_connection(self) -> dict[str, Any]:
        """Fetch the account from Twilio (or the emulator) and say how it went."""
        config = self.config
        out: dict[str, Any] = {"mode": config.mode, "account_sid": config.account_sid}
        try:
            account = self.client().api.accounts(config.account_sid).fetch()
        except twiliocore.TwilioRestError as exc:
            words = crud.describe_error_code(exc.code) or "Twilio refused the request"
            return {**out, "success": False, "error": words, "error_code": exc.code}
        except twiliocore.TwilioCoreError as exc:
            return {**out, "success": False, "error": f"cannot reach Twilio: {exc}"}
        return {
            **out,
            "success": True,
            "friendly_name": getattr(account, "friendly_name", None),
            "status": getattr(account, "status", None),
        }

    def twilio_reachable(self) -> tuple[bool, str | None]:
        """Whether the account can be fetched (cached for 15 s)."""
        cached = self._health_cache
        if cached is not None and time.monotonic() - cached[0] < 15.0:
            return cached[1], cached[2]
        result = self.test_connection()
        ok = bool(result.get("success"))
        error = None if ok else str(result.get("error"))
        self._health_cache = (time.monotonic(), ok, error)
        return ok, error

    # ------------------------------------------------------------------ notifications

    def notify_user(self, user_id: int, message: str) -> dict[str, Any]:
        """Send ``message`` to a user by their preferences and record an in-app notification.

        SMS goes out when ``sms_enabled``, WhatsApp when ``whatsapp_enabled``, both to the
        user's ``phone_number``; without a number only the in-app notification is recorded.

        Returns:
            ``{"id", "user_id", "message", "channels": [{"channel", "success",
            "message_sid", "status", "error"}], "created_at"}``.

        Raises:
            ValueError: ``user_id`` is not an id, or ``message`` is empty, blank, over
                1600 characters or holds U+0000 (the message says which and why).
            LookupError: no such user.
        """
        checked = _checked_notification(user_id, message)
        user_id, message = checked.user_id, checked.message
        with self.session_factory() as session:
            user = session.get(User, user_id)
            if user is None:
                raise LookupError(f"user_id: no user {user_id}")
            channels: list[dict[str, Any]] = []
            wanted = [("sms", user.sms_enabled), ("whatsapp", user.whatsapp_enabled)]
            for kind, enabled in wanted:
                if not enabled:
                    continue
                missing = self.missing_sender(kind)
                if not user.phone_number or missing:
                    error = missing if user.phone_number else "no phone_number set"
                    channels.append({"channel": kind, "success": False, "error": error})
                    continue
                _row, result = self.send(
                    session,
                    user_id=user.id,
                    kind=kind,
                    to_number=user.phone_number,
                    body=message,
                )
                channels.append(
                    {
                        "channel": kind,
                        "success": result["success"],
                        "message_sid": result["message_sid"],
                        "status": result["status"],
                        "error": result["error"],
                    }
                )
            channels.append({"channel": "in_app", "success": True})
            note = crud.create_notification(
                session, user_id=user.id, message=message, channels=channels
            )
            return {
                "id": note.id,
                "user_id": user.id,
                "message": note.message,
                "channels": note.channels,
                "created_at": note.created_at,
            }


def notify_user(user_id: int, message: str, *, app: Any = None) -> dict[str, Any]:
    """Notify a user through the running service, by their preferences (SMS, WhatsApp, in-app).

    For workflow code running inside the service process (route handlers, background
    tasks). From another process, ``POST /api/notifications`` does the same.

    Args:
        user_id: the user to notify.
        message: the text (SMS/WhatsApp body and in-app notification).
        app: the service's app when several run in one process; default the one
            started last.

    Returns:
        What :meth:`Messenger.notify_user` returns.

    Raises:
        MessengerUnavailable: the service is not running in this process.
        ValueError: ``user_id`` or ``message`` is not valid (the message says why).
        LookupError: no such user.
    """
    messenger: Messenger | None = getattr(getattr(app, "state", None), "messenger", None)
    if messenger is None:
        with _running_lock:
            messenger = _running[-1] if _running else None
    if messenger is None:
        raise MessengerUnavailable("notify_user needs the running twiliocore service")
    return messenger.notify_user(user_id, message)


def _checked_notification(user_id: object, message: object) -> NotificationCreate:
    """``notify_user``'s arguments checked as ``POST /api/notifications`` checks its body."""
    try:
        return NotificationCreate.model_validate({"user_id": user_id, "message": message})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{field}: {first['msg']}") from None


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
