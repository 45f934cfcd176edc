"""Service settings from the environment (and a ``.env`` file), with a secrets guard.

Nothing here runs at import time: :func:`load_settings` builds a :class:`Settings`
when the app is created, so tests and embedders pass their own.

Secrets (``SECRET_KEY``, ``TWILIO_AUTH_TOKEN``, ``ADMIN_PASSWORD``) are
:class:`pydantic.SecretStr`: their ``repr`` and ``str`` never show the value.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from twiliocore_api.schemas import MAX_NUMBER_CHARS

__all__ = ["Settings", "load_settings", "resolve_secret_key"]

logger = logging.getLogger("twiliocore_api")

_DEFAULT_DB_URL = "sqlite:///./data/twiliocore.db"
_SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name
# The most JSON bytes one number of a bulk request can take: MAX_NUMBER_CHARS characters,
# each escaped as \uXXXX, between quotes, then ", ".
BULK_BYTES_PER_NUMBER = MAX_NUMBER_CHARS * 6 + 4


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Attributes:
        DATABASE_URL: SQLAlchemy URL; a SQLite file under ``./data/`` by default.
        SECRET_KEY: signs JWTs and derives the key that encrypts stored credentials.
            When unset, one is generated once and kept in a 0600 file beside the database.
        TWILIO_ACCOUNT_SID: the Twilio account (``AC`` + 32 hex).
        TWILIO_AUTH_TOKEN: its auth token.
        TWILIO_PHONE_NUMBER: default SMS sender, E.164.
        TWILIO_WHATSAPP_NUMBER: WhatsApp sender, E.164 without ``whatsapp:``.
        TWILIO_API_BASE_URL: Twilio's API base URL (point it at an emulator); default Twilio's.
        WEBHOOK_BASE_URL: the public URL at which Twilio reaches this service; status
            callbacks go to ``{WEBHOOK_BASE_URL}/webhook/twilio/status`` and signatures are
            checked against it. Defaults to the service's own address.
        MESSAGING_USE_MOCK: force mock mode (the bundled emulator) even with credentials.
        ADMIN_EMAIL: e-mail of the first admin, created at first start.
        ADMIN_PASSWORD: its password; when unset a password is generated and printed once.
        TRUST_PROXY_HEADERS: check signatures against ``X-Forwarded-Proto``/``-Host``
            (only behind a proxy you control).
        SEND_RATE_LIMIT: send requests per user per ``SEND_RATE_WINDOW_SECONDS``.
        SEND_RATE_WINDOW_SECONDS: the rate-limit window.
        LOGIN_RATE_LIMIT: login attempts per e-mail address per 5 minutes.
        LOGIN_FAILURES_PER_CLIENT: failed logins per client address per 5 minutes; past it
            that address gets 429 without a password being checked.
        LOGIN_HASH_CONCURRENCY: passwords checked at once (argon2 takes a core and 64 MiB
            each); a login that finds them all busy for a second gets 503. Default: the
            number of CPUs, at least 2.
        MAX_CONCURRENT_REQUESTS: API requests worked on at once; the thread pool and the
            database pool are sized from it (see ``db_pool_size``, ``thread_limit``).
        MAX_QUEUED_REQUESTS: API requests waiting for a place; beyond, a fast 503.
        REQUEST_QUEUE_SECONDS: how long an API request waits for a place before its 503
            (with ``Retry-After``).
        MAX_CONCURRENT_WEBHOOKS: Twilio webhooks in flight at once (they hold no thread and
            no connection: the inbox stores them); beyond, they wait up to 10 s, then 503.
        DB_POOL_TIMEOUT_SECONDS: how long a request waits for a database connection when
            the pool is exhausted anyway (another process's load on PostgreSQL, a slow
            query); then a 503 with ``Retry-After``, never a hang.
        SQLITE_SYNCHRONOUS: SQLite's ``PRAGMA synchronous``: ``FULL`` (default; a commit
            survives a power loss) or ``NORMAL`` (survives a crash of the service, not of the
            machine; commits are much cheaper, which a busy SQLite service needs).
        MAX_BULK_RECIPIENTS: the most recipients one bulk request may carry.
        MAX_REQUEST_BYTES: the largest request body accepted (default 4 MiB); a larger
            one is a 413 before it is read. Never below what a bulk request of
            ``MAX_BULK_RECIPIENTS`` numbers may need (see ``request_byte_limit``).
        ACCESS_TOKEN_EXPIRE_MINUTES: lifetime of login tokens.
        DEFAULT_REGION: region for numbers written without ``+`` (e.g. ``"US"``).
        MOCK_EMULATOR_MPS: in mock mode, the emulator's rate per sender in segments per
            second (default: Twilio's, 1/s for a long code, so messages queue as they would).
        MOCK_SENDER_TYPE: in mock mode without ``TWILIO_PHONE_NUMBER``, the kind of SMS
            sender the emulator owns, which sets its rate as at Twilio: ``long_code`` (the
            default, 1 segment/s), ``toll_free`` (3/s) or ``short_code`` (100/s).
        JOB_LEASE_SECONDS: how long a worker's claim on a job (a bulk send) lasts without a
            heartbeat; a job whose worker died is resumed by another after this long.
        JOB_POLL_SECONDS: how often the worker looks for due jobs and expired leases.
        JOB_CONCURRENCY: jobs one service process runs at once.
        RUN_WORKER: run the job worker inside the service process (the embedded default).
        SERVER_HOST: the address the service listens on (set by ``twiliocore serve``).
        SERVER_PORT: the port it listens on.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    DATABASE_URL: str = _DEFAULT_DB_URL
    SECRET_KEY: SecretStr | None = None
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_PHONE_NUMBER: str | None = None
    TWILIO_WHATSAPP_NUMBER: str | None = None
    TWILIO_API_BASE_URL: str | None = None
    WEBHOOK_BASE_URL: str | None = None
    MESSAGING_USE_MOCK: bool = False
    ADMIN_EMAIL: str = "admin@example.com"
    ADMIN_PASSWORD: SecretStr | None = None
    TRUST_PROXY_HEADERS: bool = False
    SEND_RATE_LIMIT: Annotated[int, Field(ge=1)] = 60
    SEND_RATE_WINDOW_SECONDS: Annotated[float, Field(gt=0)] = 60.0
    LOGIN_RATE_LIMIT: Annotated[int, Field(ge=1)] = 20
    LOGIN_FAILURES_PER_CLIENT: Annotated[int, Field(ge=1)] = 50
    LOGIN_HASH_CONCURRENCY: Annotated[int, Field(ge=1)] | None = None
    MAX_CONCURRENT_REQUESTS: Annotated[int, Field(ge=1, le=1000)] = 32
    MAX_QUEUED_REQUESTS: Annotated[int, Field(ge=0)] = 512
    REQUEST_QUEUE_SECONDS: Annotated[float, Field(gt=0, le=60)] = 2.0
    MAX_CONCURRENT_WEBHOOKS: Annotated[int, Field(ge=1)] = 512
    DB_POOL_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    SQLITE_SYNCHRONOUS: Literal["FULL", "NORMAL"] = "FULL"
    MAX_BULK_RECIPIENTS: Annotated[int, Field(ge=1)] = 10_000
    MAX_REQUEST_BYTES: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024
    ACCESS_TOKEN_EXPIRE_MINUTES: Annotated[int, Field(ge=1)] = 8 * 60
    DEFAULT_REGION: str = "US"
    MOCK_EMULATOR_MPS: Annotated[float, Field(gt=0)] | None = None
    MOCK_SENDER_TYPE: Literal["long_code", "toll_free", "short_code"] = "long_code"
    JOB_LEASE_SECONDS: Annotated[float, Field(gt=0)] = 30.0
    JOB_POLL_SECONDS: Annotated[float, Field(gt=0)] = 1.0
    JOB_CONCURRENCY: Annotated[int, Field(ge=1)] = 4
    RUN_WORKER: bool = True
    SERVER_HOST: str = "127.0.0.1"
    SERVER_PORT: int = 8000

    @field_validator(
        "TWILIO_ACCOUNT_SID",
        "TWILIO_PHONE_NUMBER",
        "TWILIO_WHATSAPP_NUMBER",
        "TWILIO_API_BASE_URL",
        "WEBHOOK_BASE_URL",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("MOCK_SENDER_TYPE", mode="before")
    @classmethod
    def _sender_type_spelling(cls, value: object) -> object:
        # "Short-Code" and " toll_free " mean what they say; anything else is refused.
        return value.strip().lower().replace("-", "_") if isinstance(value, str) else value

    @field_validator("SECRET_KEY", "TWILIO_AUTH_TOKEN", "ADMIN_PASSWORD", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("SECRET_KEY")
    @classmethod
    def _secret_key_strength(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters (or unset to generate one)")
        return value

    @property
    def env_credentials_configured(self) -> bool:
        """True when the environment holds a Twilio account SID and auth token."""
        return bool(self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN)

    @property
    def request_byte_limit(self) -> int:
        """The body size limit in force, in bytes.

        ``MAX_REQUEST_BYTES``, raised when a bulk request of ``MAX_BULK_RECIPIENTS`` numbers
        could need more (every number at its MAX_NUMBER_CHARS limit with each character
        JSON-escaped as six bytes, plus 64 KiB for the rest).
        """
        return max(
            self.MAX_REQUEST_BYTES,
            self.MAX_BULK_RECIPIENTS * BULK_BYTES_PER_NUMBER + 64 * 1024,
        )

    @property
    def db_pool_size(self) -> int:
        """Database connections one process keeps.

        Every API request at work may hold one, each running job two, plus the inbox, the
        worker's polling and start-up work. The pool may open 8 more for a burst; a request
        still finding none waits ``DB_POOL_TIMEOUT_SECONDS``, then gets a 503. With several
        processes on one PostgreSQL, keep ``processes x (db_pool_size + 8)`` under its
        ``max_connections``.
        """
        return self.MAX_CONCURRENT_REQUESTS + 2 * self.JOB_CONCURRENCY + 4

    @property
    def thread_limit(self) -> int:
        """Threads sync routes may use at once.

        One per API request at work, plus a margin for start-up, shutdown and request
        teardown, so that no admitted request waits for a thread (whose wait would hold a
        connection another request needs).
        """
        return self.MAX_CONCURRENT_REQUESTS + 8

    @property
    def login_hash_limit(self) -> int:
        """Passwords checked at once (``LOGIN_HASH_CONCURRENCY`` or the CPUs, at least 2)."""
        return self.LOGIN_HASH_CONCURRENCY or max(2, os.cpu_count() or 2)

    @property
    def public_base_url(self) -> str:
        """The URL Twilio (or the emulator) uses to reach the service, without trailing ``/``."""
        if self.WEBHOOK_BASE_URL:
            return self.WEBHOOK_BASE_URL.rstrip("/")
        host = self.SERVER_HOST
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.SERVER_PORT}"

    @property
    def data_dir(self) -> Path:
        """The directory of the SQLite database file (``./data`` for other databases)."""
        url = make_url(self.DATABASE_URL)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).expanduser().resolve().parent
        return Path("data").resolve()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with keyword overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]


def resolve_secret_key(settings: Settings) -> str:
    """Return ``SECRET_KEY``, generating and storing one when it is unset.

    The generated key is kept in ``secret_key`` (mode 0600) beside the SQLite database so
    that tokens and encrypted settings survive restarts. The key itself is never logged.
    """
    if settings.SECRET_KEY is not None:
        return settings.SECRET_KEY.get_secret_value()
    path = settings.data_dir / _SECRET_FILE_NAME
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 16:
            logger.info("SECRET_KEY not set: using the generated key stored in %s", path)
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    logger.warning(
        "SECRET_KEY not set: generated a new one and stored it in %s (mode 0600); "
        "set SECRET_KEY in the environment to manage it yourself",
        path,
    )
    return key
