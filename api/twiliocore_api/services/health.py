"""Health: what ``GET /api/health`` reports, kept fresh off the request path.

Under load every pooled connection and pool thread may be busy; a health check waiting
behind them would call a working service dead. :class:`HealthMonitor` checks the database
on a connection of its own and Twilio through the messaging layer, on a thread of its own,
at most once per ``max_age`` seconds; the route answers from the last result at once and
only the very first check is waited for.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.services.config import MessagingRuntime

__all__ = ["HealthMonitor", "HealthSnapshot"]

logger = logging.getLogger("twiliocore_api")


@dataclass(frozen=True)
class HealthSnapshot:
    """One health check's result.

    Attributes:
        database_reachable: ``SELECT 1`` answered.
        twilio_reachable: the account could be fetched (cached 15 s by the runtime).
        twilio_error: why not, in words.
        checked_at: ``time.monotonic()`` when the check finished.
        config: the messaging configuration that was in force (a new one needs a new check).
    """

    database_reachable: bool
    twilio_reachable: bool
    twilio_error: str | None
    checked_at: float
    config: Any = None


class HealthMonitor:
    """Checks the database and Twilio in the background; hands out the latest result.

    Thread-safe. The database check uses ``engine`` (give it a pool of its own, apart
    from the requests').

    Args:
        engine: the engine the database check runs on.
        messenger: the messaging layer (for Twilio's reachability).
        max_age: seconds a result is served before a new check is started.
    """

    def __init__(
        self, engine: Engine, messenger: MessagingRuntime, *, max_age: float = 1.0
    ) -> None:
        self.engine = engine
        self.messenger = messenger
        self.max_age = max_age
        self._lock = threading.Condition()
        self._latest: HealthSnapshot | None = None
        self._checking: threading.Thread | None = None

    def _current(self) -> HealthSnapshot | None:
        # Under the lock: the latest result if it is about the configuration in force.
        latest = self._latest
        if latest is None or latest.config is not self.messenger.config:
            return None
        return latest

    def _start_check(self) -> None:
        # Under the lock.
        if self._checking is None or not self._checking.is_alive():
            self._checking = threading.Thread(
                target=self._check, name="twiliocore-health", daemon=True
            )
            self._checking.start()

    def latest(self) -> HealthSnapshot | None:
        """The last result for the configuration in force (``None`` before one exists).

        Starts a check in the background when the result is older than ``max_age``.
        """
        with self._lock:
            latest = self._current()
            if latest is None or time.monotonic() - latest.checked_at >= self.max_age:
                self._start_check()
            return latest

    def wait(self, timeout: float = 30.0) -> HealthSnapshot | None:
        """Block until a result for the configuration in force exists (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (latest := self._current()) is None:
                self._start_check()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(min(remaining, 0.5))
            return latest

    def _check(self) -> None:
        config = self.messenger.config
        try:
            with Session(self.engine) as session:
                crud.ping(session)
            database_ok = True
        except SQLAlchemyError as exc:
            logger.warning("health: database unreachable: %s", type(exc).__name__)
            database_ok = False
        try:
            twilio_ok, twilio_error = self.messenger.twilio_reachable()
        except Exception as exc:  # reported, never raised out of a health check
            twilio_ok, twilio_error = False, type(exc).__name__
        with self._lock:
            self._latest = HealthSnapshot(
                database_ok, twilio_ok, twilio_error, time.monotonic(), config
            )
            self._lock.notify_all()
