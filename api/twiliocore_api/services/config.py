"""Configuration and mock mode: the Twilio settings in force and the client built from them.

:class:`MessagingRuntime` is the one live object of a running service (``app.state.messenger``):
it owns the effective configuration (stored settings win over the environment; with
neither, or with ``MESSAGING_USE_MOCK``, the bundled emulator runs in-process: *mock
mode*), the :class:`twiliocore.Client` built from it (rebuilt when the settings change),
and the inbound pipeline. The other service modules take it as their first argument.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import twiliocore
from sqlalchemy.orm import Session, sessionmaker
from twiliocore.phone import to_e164

from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.security import DecryptionError, KeyRing
from twiliocore_api.services.inbound import InboundPipeline, default_pipeline
from twiliocore_api.services.status import describe_error_code

if TYPE_CHECKING:
    from twiliocore.emulator import Emulator

    from twiliocore_api.services.reconcile import SendReconciler

__all__ = [
    "INCOMING_PATH",
    "MOCK_PHONE_NUMBER",
    "MOCK_SENDERS",
    "MOCK_WHATSAPP_NUMBER",
    "STATUS_PATH",
    "ConnectionCheck",
    "CredentialsRejected",
    "EffectiveConfig",
    "Live",
    "MessagingRuntime",
    "MessengerUnavailable",
    "TwilioUnreachable",
    "running_runtime",
    "strip_channel",
]

logger = logging.getLogger("twiliocore_api")

STATUS_PATH = "/webhook/twilio/status"
INCOMING_PATH = "/webhook/twilio/incoming"
_CREDENTIALS_CONTEXT = "sms_settings.auth_token"

# Senders the bundled emulator owns by default (Twilio's test sender and WhatsApp sandbox).
MOCK_PHONE_NUMBER = "+15005550006"
MOCK_WHATSAPP_NUMBER = "+14155238886"
# The SMS sender of mock mode for each MOCK_SENDER_TYPE: the emulator paces each at the rate
# Twilio gives that kind of sender (see twiliocore.emulator.throughput.sender_rate).
MOCK_SENDERS = {
    "long_code": MOCK_PHONE_NUMBER,
    "toll_free": "+18005550006",
    "short_code": "55506",
}
_SENDER_KINDS = {
    "long_code": "a long code",
    "toll_free": "a toll-free number",
    "short_code": "a short code",
}

# Runtimes of the services running in this process, most recently started last.
_running: list[MessagingRuntime] = []
_running_lock = threading.Lock()


class MessengerUnavailable(RuntimeError):
    """Raised when messaging is used outside a running service (no lifespan started)."""


class CredentialsRejected(ValueError):
    """Raised when Twilio refuses the credentials being stored (they are not stored).

    Attributes:
        field: the body field to blame (``auth_token`` for 401/403, ``account_sid`` for
            an account that was not found or is not active).
        status: Twilio's HTTP status (200 when the account was fetched but is not active).
        code: Twilio's error code, when it gave one.
        twilio_message: Twilio's own words.
    """

    def __init__(self, field: str, status: int, code: int | None, twilio_message: str) -> None:
        what = f"HTTP {status}" + (f", error {code}" if code is not None else "")
        super().__init__(f"Twilio refused these credentials ({what}: {twilio_message})")
        self.field = field
        self.status = status
        self.code = code
        self.twilio_message = twilio_message


class TwilioUnreachable(RuntimeError):
    """Raised when the credentials cannot be checked: Twilio is unreachable or failing."""


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
    updated_at: datetime | None = None

    @property
    def configured(self) -> bool:
        """True when real (non-emulator) credentials are in force."""
        return self.mode == "live" and bool(self.account_sid and self.auth_token)


class Live(NamedTuple):
    """The configuration in force and the client built from it, taken together."""

    config: EffectiveConfig
    client: twiliocore.Client


@dataclass(frozen=True)
class ConnectionCheck:
    """How fetching the account from Twilio (or the emulator) went."""

    success: bool
    mode: str
    account_sid: str | None
    friendly_name: str | None = None
    status: str | None = None
    error: str | None = None
    error_code: int | None = None


def strip_channel(address: str | None) -> str | None:
    """``address`` without its ``whatsapp:`` prefix."""
    if address and address.startswith("whatsapp:"):
        return address[len("whatsapp:") :]
    return address


def running_runtime() -> MessagingRuntime | None:
    """The runtime of the service started last in this process, if one runs."""
    with _running_lock:
        return _running[-1] if _running else None


def _describe_mock_sender(settings: Settings, phone: str) -> str:
    """Which SMS sender mock mode uses, the emulator's rate for it, and how to change it."""
    from twiliocore.emulator.throughput import sender_rate

    rate = sender_rate(phone, settings.MOCK_EMULATOR_MPS)
    if settings.TWILIO_PHONE_NUMBER:
        sender = f"{phone} (TWILIO_PHONE_NUMBER; MOCK_SENDER_TYPE is not used)"
    else:
        kind = settings.MOCK_SENDER_TYPE
        sender = f"{phone}, {_SENDER_KINDS[kind]} (MOCK_SENDER_TYPE={kind})"
    paced = (
        "MOCK_EMULATOR_MPS" if settings.MOCK_EMULATOR_MPS is not None else "Twilio's rate for it"
    )
    drain = 2000 / rate
    took = f"{drain / 60:.0f} min" if drain >= 120 else f"{drain:.0f} s"
    return (
        f"SMS goes from {sender}, which the emulator paces at {rate:g} message segment(s) "
        f"per second ({paced}): messages beyond that wait as queued, e.g. {took} for "
        "2,000 one-segment messages to leave the queue. For a faster sender set "
        "MOCK_SENDER_TYPE=toll_free (3/s) or short_code (100/s), or MOCK_EMULATOR_MPS"
    )


class MessagingRuntime:
    """The messaging side of one running service: configuration, client, emulator, pipeline.

    Thread-safe: routes (in a thread pool), webhooks and background threads share it.

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
        self.inbound: InboundPipeline = default_pipeline()
        # Set once the job queue runs: single sends whose answer was lost are reconciled on it.
        self.reconciler: SendReconciler | None = None
        self._lock = threading.RLock()
        self._emulator: Emulator | None = None
        self._config: EffectiveConfig | None = None
        self._client: twiliocore.Client | None = None
        self._retired: list[twiliocore.Client] = []
        self._health_cache: tuple[float, bool, str | None] | None = None

    def __repr__(self) -> str:
        config = self._config
        return f"{type(self).__name__}(mode={config.mode if config else None!r})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Load the configuration (starting the emulator in mock mode) and register globally."""
        self.reload()
        with _running_lock:
            _running.append(self)

    def _unregister(self) -> None:
        with _running_lock:
            if self in _running:
                _running.remove(self)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Close the clients and stop the emulator (``timeout`` is for subclasses' workers)."""
        self._unregister()
        with self._lock:
            clients = [*self._retired]
            if self._client is not None:
                clients.append(self._client)
            self._retired.clear()
            self._client = None
            emulator, self._emulator = self._emulator, None
        for client in clients:
            client.close()
        if emulator is not None:
            emulator.stop()

    def reload(self) -> EffectiveConfig:
        """Rebuild the configuration and the client (after the settings changed)."""
        stored = self._stored_config()
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
        client = twiliocore.Client(config.account_sid, config.auth_token, base_url=config.base_url)
        if config.mode == "live" and not config.base_url and not s.WEBHOOK_BASE_URL:
            logger.warning(
                "WEBHOOK_BASE_URL is not set: Twilio cannot reach this service, so messages "
                "are sent without a StatusCallback and incoming messages are not received; "
                "set it to the service's public URL"
            )
        with self._lock:
            if self._client is not None:
                # Requests may still be in flight on it: close it when the service stops.
                self._retired.append(self._client)
            self._config = config
            self._client = client
            self._health_cache = None
        return config

    def _stored_config(self) -> EffectiveConfig | None:
        with self.session_factory() as session:
            row = crud.get_sms_settings(session)
            if row is None:
                return None
            try:
                token = self.keyring.decrypt(row.auth_token_encrypted, context=_CREDENTIALS_CONTEXT)
            except DecryptionError as exc:
                logger.error("ignoring stored Twilio settings: %s", exc)
                return None
            return EffectiveConfig(
                mode="live",
                source="database",
                account_sid=row.account_sid,
                auth_token=token,
                phone_number=row.phone_number,
                whatsapp_number=row.whatsapp_number,
                base_url=self.settings.TWILIO_API_BASE_URL,
                updated_at=row.updated_at,
            )

    def _mock_config(self) -> EffectiveConfig:
        from twiliocore.emulator import Emulator

        s = self.settings
        phone = s.TWILIO_PHONE_NUMBER or MOCK_SENDERS[s.MOCK_SENDER_TYPE]
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
                logger.warning("MOCK MODE: %s", _describe_mock_sender(s, phone))
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

    # ------------------------------------------------------------------ what is in force

    @property
    def config(self) -> EffectiveConfig:
        """The configuration in force."""
        config = self._config
        if config is None:
            raise MessengerUnavailable("the messaging layer has not been started")
        return config

    @property
    def emulator(self) -> Emulator | None:
        """The in-process emulator (mock mode), or ``None``."""
        return self._emulator

    def current(self) -> Live:
        """The configuration in force and its client, read together (one consistent pair)."""
        with self._lock:
            if self._config is None or self._client is None:
                raise MessengerUnavailable("the messaging layer has not been started")
            return Live(self._config, self._client)

    _current = current

    def client(self) -> twiliocore.Client:
        """The :class:`twiliocore.Client` of the configuration in force."""
        return self.current().client

    def validator(self) -> twiliocore.RequestValidator | None:
        """A signature validator for the auth token in force (``None`` without one)."""
        token = self.config.auth_token
        return twiliocore.RequestValidator(token) if token else None

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
        crud.save_sms_settings(
            session,
            account_sid=account_sid,
            auth_token_encrypted=self.keyring.encrypt(auth_token, context=_CREDENTIALS_CONTEXT),
            phone_number=phone_number,
            whatsapp_number=whatsapp_number,
            user_id=user_id,
        )
        config = self.reload()
        logger.info("Twilio settings updated (account %s, mode %s)", account_sid, config.mode)
        return config

    def verify_credentials(self, account_sid: str, auth_token: str) -> None:
        """Fetch the account with these credentials where they would be used; raise if refused.

        The check goes to the base URL that stored credentials are used with
        (``TWILIO_API_BASE_URL``, e.g. an emulator, or Twilio's own), never to the
        in-process mock emulator, which knows only its own account.

        Raises:
            CredentialsRejected: Twilio answered 401/403/404, or the account is not active.
            TwilioUnreachable: a transport error, or Twilio answered 429/5xx.
        """
        client = twiliocore.Client(
            account_sid,
            auth_token,
            base_url=self.settings.TWILIO_API_BASE_URL,
            timeout=20.0,
            connect_timeout=10.0,
        )
        with client:
            base_url = client.base_url
            try:
                account = client.api.accounts(account_sid).fetch()
            except twiliocore.TwilioRestError as exc:
                code = exc.code if exc.code != exc.status else None
                blamed = {401: "auth_token", 403: "auth_token", 404: "account_sid"}
                if exc.status in blamed:
                    field = blamed[exc.status]
                    raise CredentialsRejected(field, exc.status, code, exc.message) from None
                raise TwilioUnreachable(
                    f"Twilio at {base_url} could not check the credentials "
                    f"(HTTP {exc.status}, error {exc.code}: {exc.message})"
                ) from None
            except twiliocore.TwilioCoreError as exc:
                raise TwilioUnreachable(f"cannot reach Twilio at {base_url}: {exc}") from None
        state = getattr(account, "status", None)
        if state not in (None, "active"):
            raise CredentialsRejected("account_sid", 200, None, f"the account is {state}")

    def clear_settings(self, session: Session) -> EffectiveConfig:
        """Remove the stored credentials and put the environment's (or mock mode) in force."""
        removed = crud.delete_sms_settings(session)
        config = self.reload()
        if removed:
            logger.info(
                "stored Twilio settings removed; now %s mode from the %s",
                config.mode,
                config.source,
            )
        return config

    # ------------------------------------------------------------------ numbers and senders

    def normalize(self, number: str) -> str:
        """A number in E.164 (``InvalidPhoneNumber`` when it is not one)."""
        return to_e164(strip_channel(number) or "", self.settings.DEFAULT_REGION)

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

    # ------------------------------------------------------------------ reachability

    def test_connection(self) -> ConnectionCheck:
        """Fetch the account from Twilio (or the emulator) and say how it went."""
        config = self.config
        mode, sid = config.mode, config.account_sid
        try:
            client = self.client()
            account = client.api.accounts(client.account_sid).fetch()
        except twiliocore.TwilioRestError as exc:
            words = describe_error_code(exc.code) or "Twilio refused the request"
            return ConnectionCheck(False, mode, sid, error=words, error_code=exc.code)
        except twiliocore.TwilioCoreError as exc:
            return ConnectionCheck(False, mode, sid, error=f"cannot reach Twilio: {exc}")
        return ConnectionCheck(
            True,
            mode,
            sid,
            friendly_name=getattr(account, "friendly_name", None),
            status=getattr(account, "status", None),
        )

    def twilio_reachable(self) -> tuple[bool, str | None]:
        """Whether the account can be fetched (cached for 15 s)."""
        cached = self._health_cache
        if cached is not None and time.monotonic() - cached[0] < 15.0:
            return cached[1], cached[2]
        check = self.test_connection()
        error = None if check.success else str(check.error)
        self._health_cache = (time.monotonic(), check.success, error)
        return check.success, error
