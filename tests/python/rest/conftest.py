"""Fixtures of the REST resource tests: a fake Twilio on loopback and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twiliocore import Client

from .fake_twilio import ACCOUNT, TOKEN, FakeTwilio, serve


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    yield from serve()


@pytest.fixture
def client(fake: FakeTwilio) -> Iterator[Client]:
    with Client(ACCOUNT, TOKEN, base_url=fake.url) as c:
        yield c
