"""Fixtures of the emulator tests: HTTP clients bound to an emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest


class Api:
    """An httpx client for one emulator, with its account's URLs."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.http = httpx.Client(
            base_url=emulator.url, auth=(emulator.account_sid, emulator.auth_token), timeout=10
        )
        self.account = f"/2010-04-01/Accounts/{emulator.account_sid}"
        self.messages = f"{self.account}/Messages.json"

    def message_url(self, sid: str) -> str:
        return f"{self.account}/Messages/{sid}.json"

    def send(self, **params: Any) -> httpx.Response:
        params.setdefault("From", "+15005550006")
        params.setdefault("To", "+14155552671")
        if "Body" not in params and "MediaUrl" not in params:
            params["Body"] = "Hello from the emulator"
        return self.http.post(self.messages, data=params)

    def fetch(self, sid: str) -> dict[str, Any]:
        response = self.http.get(self.message_url(sid))
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def api(fresh_emulator: Any) -> Iterator[Api]:
    client = Api(fresh_emulator)
    yield client
    client.close()


@pytest.fixture
def api_for() -> Iterator[Any]:
    clients: list[Api] = []

    def make(emulator: Any) -> Api:
        client = Api(emulator)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
