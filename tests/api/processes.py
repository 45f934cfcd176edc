"""The emulator and ``twiliocore serve`` as real processes on 127.0.0.1.

``Emulator`` runs ``twiliocore emulator``, ``ServiceProcess`` runs ``twiliocore serve`` on a
SQLite file against it; the ``processes`` fixture (``tests/api/conftest.py``) starts them
and stops them at the end of the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "emulator-token-0123456789abcdef"
SENDER = "+15005550006"
ADMIN = {"email": "admin@example.com", "password": "admin-password-123"}
# Long enough that a heartbeat delayed by a loaded 2-core machine never loses a live lease.
LEASE_SECONDS = 6.0


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    drop = ("TWILIO_", "DATABASE_URL", "SECRET_KEY", "ADMIN_", "WEBHOOK_", "MESSAGING_", "JOB_")
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }


class Emulator:
    """``twiliocore emulator`` in a process of its own (it outlives the services)."""

    def __init__(self, log: Path, wait: Callable[..., Any], *extra: str) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait = wait
        command = [sys.executable, "-m", "twiliocore", "emulator", "--port", str(self.port)]
        command += ["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, *extra]
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [*command, "--log-level", "warning"],
                env=_clean_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait(self._up, what="the emulator")

    def _up(self) -> bool:
        assert self.proc.poll() is None, "the emulator exited"
        try:
            return httpx.get(f"{self.url}/_emulator/health", trust_env=False).is_success
        except httpx.TransportError:
            return False

    def created(self, body: str) -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{self.url}/_emulator/messages",
            params={"from": SENDER},
            trust_env=False,
            timeout=60,
        )
        return [m for m in answer.json()["messages"] if m["body"] == body]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class ServiceProcess:
    """``twiliocore serve`` in a process of its own, on a shared SQLite file."""

    def __init__(
        self,
        wait: Callable[..., Any],
        directory: Path,
        db: Path,
        emulator: Emulator,
        name: str,
        **extra_env: str,
    ) -> None:
        self.wait = wait
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"{name}.log"
        env = _clean_env()
        env.update(
            DATABASE_URL=f"sqlite:///{db}",
            SECRET_KEY="job-queue-test-secret-0123456789",
            ADMIN_EMAIL=ADMIN["email"],
            ADMIN_PASSWORD=ADMIN["password"],
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_PHONE_NUMBER=SENDER,
            TWILIO_API_BASE_URL=emulator.url,
            SEND_RATE_LIMIT="1000",
            JOB_LEASE_SECONDS=str(LEASE_SECONDS),
            JOB_POLL_SECONDS="0.2",
        )
        env.update(extra_env)
        self.env = env
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "twiliocore", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_up(self) -> None:
        self.wait(self._up, timeout=60, what=f"the service on {self.port}")

    def _up(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.url}/api/health", trust_env=False).status_code < 500
        except httpx.TransportError:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @contextlib.contextmanager
    def client(self) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.url, trust_env=False, timeout=60) as client:
            token = client.post("/api/auth/login", json=ADMIN).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            yield client

    def kill(self, signum: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)
        self.proc.wait(60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
