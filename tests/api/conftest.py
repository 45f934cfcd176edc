"""Fixtures for the service tests: the service under uvicorn on a free port, driven over HTTP.

``service`` is one session-wide service in mock mode (the emulator in-process, a temp
SQLite database); ``start_service(**settings)`` starts another with its own settings and
database for tests that need a different configuration. ``db`` is a session on a migrated
SQLite database without a service, and ``outbound(db, sid=, status=)`` adds a message to it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.db import make_engine, make_session_factory, run_migrations
from twiliocore_api.main import create_app
from twiliocore_api.models import Message
from twiliocore_api.prestart import prestart

from bench import postgres as temp_postgres
from bench.postgres import TempPostgres
from tests.api.processes import Emulator, ServiceProcess

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
SECRET_KEY = "test-secret-key-0123456789abcdef"

_CLEARED_ENV = (
    "DATABASE_URL",
    "SECRET_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_PHONE_NUMBER",
    "TWILIO_WHATSAPP_NUMBER",
    "TWILIO_API_BASE_URL",
    "WEBHOOK_BASE_URL",
    "MESSAGING_USE_MOCK",
    "MOCK_SENDER_TYPE",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "TRUST_PROXY_HEADERS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running service."""

    url: str
    settings: Settings
    server: uvicorn.Server
    app: Any
    thread: threading.Thread
    responses: list[str] = field(default_factory=list)
    _tokens: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=30.0,
            trust_env=False,
            event_hooks={"response": [self._keep]},
            **kwargs,
        )

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(f"{response.status_code} {response.headers} {response.text}")

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
        key = f"{email}\0{password}"
        if key not in self._tokens:
            with self.client() as client:
                answer = client.post("/api/auth/login", json={"email": email, "password": password})
            assert answer.status_code == 200, answer.text
            self._tokens[key] = answer.json()["access_token"]
        return self._tokens[key]

    def admin(self) -> httpx.Client:
        return self.client(self.login())

    def new_user(self, email: str, password: str = "user-password-123", **extra: Any) -> str:
        """Create a user (as admin) and return its token."""
        with self.admin() as admin:
            answer = admin.post(
                "/api/users", json={"email": email, "password": password, "role": "user", **extra}
            )
            assert answer.status_code == 201, answer.text
        return self.login(email, password)

    @property
    def messenger(self) -> Any:
        return self.app.state.messenger

    @property
    def emulator(self) -> Any:
        return self.messenger.emulator


@contextlib.contextmanager
def running_service(tmp_path: Path, **overrides: Any) -> Iterator[Service]:
    """Run the prestart step, start the service under uvicorn in a thread; stop it on exit."""
    port = free_port()
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "SECRET_KEY": SECRET_KEY,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SERVER_HOST": "127.0.0.1",
        "SERVER_PORT": port,
        "MOCK_EMULATOR_MPS": 1000.0,
    }
    values.update(overrides)
    with pytest.MonkeyPatch.context() as mp:
        for name in _CLEARED_ENV:
            mp.delenv(name, raising=False)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    prestart(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"service-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(10)
            raise RuntimeError("the service did not start (see the log above)")
        time.sleep(0.02)
    service = Service(f"http://127.0.0.1:{port}", settings, server, app, thread)
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the service did not stop"


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The session-wide service in mock mode."""
    with running_service(tmp_path_factory.mktemp("service"), SEND_RATE_LIMIT=10_000) as svc:
        yield svc


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start extra services with their own settings for one test."""
    stack = contextlib.ExitStack()
    count = iter(range(1_000))

    def start(**overrides: Any) -> Service:
        directory = tmp_path / f"svc{next(count)}"
        directory.mkdir()
        return stack.enter_context(running_service(directory, **overrides))

    with stack:
        yield start


def _wait_for(
    predicate: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns something truthy (a deadline, not a timing check)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, timeout=..., what=...)``: poll until truthy, fail past the deadline."""
    return _wait_for


@pytest.fixture
def run_service() -> Callable[..., contextlib.AbstractContextManager[Service]]:
    """``with run_service(directory, **settings) as svc``: a service on that directory's DB."""
    return running_service


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def processes(tmp_path: Path, wait_for: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """Real processes (``tests/api/processes.py``), stopped after the test.

    ``processes("emulator", *options)``, ``processes("service", db, emulator, name, **env)``.
    """
    started: list[Any] = []

    def start(what: str, *args: Any, **env: str) -> Any:
        if what == "emulator":
            item: Any = Emulator(tmp_path / "emulator.log", wait_for, *args)
        else:
            item = ServiceProcess(wait_for, tmp_path, *args, **env)
        started.append(item)
        return item

    yield start
    for item in reversed(started):
        item.stop()


# A migrated SQLite database without a service (data access and service-layer tests) --------


@pytest.fixture
def session_factory(tmp_path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path}/services.db")
    run_migrations(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(session_factory) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def add_outbound(db: Session, sid: str | None = "SM" + "a" * 32, status: str = "queued") -> Message:
    """An outbound message row, committed (through ``crud.create_message``)."""
    return crud.create_message(
        db,
        message_sid=sid,
        type="sms",
        direction="outbound-api",
        to_number="+14155552671",
        from_number="+15005550006",
        body="x",
        status=status,
    )


@pytest.fixture
def outbound() -> Callable[..., Message]:
    return add_outbound


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres]:
    """A throwaway PostgreSQL server on loopback (bench/postgres.py)."""
    pytest.importorskip("psycopg")
    try:
        server = temp_postgres.start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    with server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: TempPostgres) -> str:
    """A fresh, empty database on the test PostgreSQL server."""
    return postgres_server.create_database()
