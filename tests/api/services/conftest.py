"""Fixtures for the service layer without HTTP: runtimes on the test database.

``make_runtime(**settings)`` starts a :class:`MessagingRuntime` on the test database (live
mode against an emulator from ``make_emulator`` when credentials are given, mock mode
otherwise) and stops it at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twiliocore_api.core.config import Settings
from twiliocore_api.core.security import KeyRing
from twiliocore_api.services.config import MessagingRuntime

SECRET_KEY = "test-secret-key-0123456789abcdef"


@pytest.fixture
def make_runtime(session_factory, make_emulator) -> Iterator[Callable[..., MessagingRuntime]]:
    started: list[MessagingRuntime] = []

    def make(**settings: Any) -> MessagingRuntime:
        values: dict[str, Any] = {"SECRET_KEY": SECRET_KEY, "MOCK_EMULATOR_MPS": 1000.0}
        values.update(settings)
        runtime = MessagingRuntime(
            Settings(_env_file=None, **values), session_factory, KeyRing(SECRET_KEY)
        )
        runtime.start()
        started.append(runtime)
        return runtime

    yield make
    for runtime in started:
        runtime.stop()


@pytest.fixture
def live_runtime(make_emulator, make_runtime, unused_port) -> MessagingRuntime:
    """A runtime in live mode against a fresh emulator (``runtime.twilio``).

    Its status callbacks go to a loopback port nothing listens on.
    """
    twilio = make_emulator()
    runtime = make_runtime(
        SERVER_PORT=unused_port,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
    )
    runtime.twilio = twilio  # type: ignore[attr-defined]
    return runtime
