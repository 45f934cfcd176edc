"""Fixtures shared by every test suite.

- ``_clean_environment`` (autouse): each test starts without ``TWILIO_*``, ``DATABASE_URL``,
  ``MESSAGING_USE_MOCK``, ``WEBHOOK_BASE_URL`` or proxy variables from the outer shell.
- ``emulator`` (session): one started :class:`twiliocore.emulator.Emulator` on a free
  loopback port. Fast settings: 1000 segments/s per sender, 20 ms between statuses.
- ``fresh_emulator``: the session emulator, reset (no messages, webhooks or queues).
- ``make_emulator``: a factory for emulators with other settings (stopped at teardown).
- ``webhook_receiver``: a local HTTP server recording every request it gets (for status
  callbacks and incoming-message webhooks); its answers can be scripted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

_ENV_PREFIXES = ("TWILIO_",)
_ENV_NAMES = (
    "DATABASE_URL",
    "MESSAGING_USE_MOCK",
    "WEBHOOK_BASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)


# Emulator ------------------------------------------------------------------------------

FAST_EMULATOR = {"mps": 1000.0, "status_delay": 0.02, "callback_retry_delay": 0.05}


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from twiliocore.emulator import Emulator

    with Emulator(**FAST_EMULATOR) as server:
        yield server


@pytest.fixture
def fresh_emulator(emulator: Any) -> Any:
    emulator.reset()
    return emulator


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Any]]:
    from twiliocore.emulator import Emulator

    started: list[Any] = []

    def make(**settings: Any) -> Any:
        options = {**FAST_EMULATOR, **settings}
        server = Emulator(**options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# Webhook receiver ----------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes
    params: list[tuple[str, str]]

    @property
    def form(self) -> dict[str, str]:
        return dict(self.params)


@dataclass
class WebhookReceiver:
    """A loopback HTTP server that records requests and answers as scripted.

    ``answer`` (if set) decides each request's status; otherwise ``answers`` is consumed
    one status per request (then ``default_status``); ``response_body`` / ``content_type``
    are sent with every answer, unless ``bodies`` has a body for the request's path.
    """

    url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    answer: Callable[[ReceivedRequest], int] | None = None
    default_status: int = 200
    response_body: bytes = b"<?xml version='1.0' encoding='UTF-8'?><Response/>"
    bodies: dict[str, bytes] = field(default_factory=dict)
    content_type: str = "text/xml"
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def wait_for(
        self, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float = 10.0
    ) -> list[ReceivedRequest]:
        """Wait until ``predicate(requests)`` holds; return a copy of the requests."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; received {len(self.requests)} requests")
                self.arrived.wait(remaining)
            return list(self.requests)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = urlsplit(self.path).query
            params = parse_qsl(body.decode("utf-8") if body else query, keep_blank_values=True)
            request = ReceivedRequest(
                self.command,
                self.path,
                receiver.url.rstrip("/") + self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                params,
            )
            with receiver.arrived:
                receiver.requests.append(request)
                if receiver.answer is not None:
                    status = receiver.answer(request)
                elif receiver.answers:
                    status = receiver.answers.pop(0)
                else:
                    status = receiver.default_status
                receiver.arrived.notify_all()
            answer = receiver.bodies.get(urlsplit(self.path).path, receiver.response_body)
            self.send_response(status)
            self.send_header("Content-Type", receiver.content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = _handle
        do_GET = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(5)
