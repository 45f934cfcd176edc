"""The :class:`Emulator`: the Twilio emulator under uvicorn, in a background thread."""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from twiliocore.emulator.app import build_app
from twiliocore.emulator.config import EmulatorConfig, OwnedNumberSpec
from twiliocore.emulator.faults import FaultConfig
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import MessageRecord

__all__ = ["Emulator"]


class _QuietH11Protocol(H11Protocol):
    """uvicorn's h11 protocol without access-log lines.

    The ``uvicorn.access`` logger is shared with the host application's server, so the
    emulator switches access logging off per connection instead of on that logger.
    The drop faults rely on the h11 protocol (see ``faults.py``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_log = False


class _InProcessConfig(uvicorn.Config):
    """uvicorn's Config without its process-wide logging set-up.

    The emulator runs inside a host application (a test suite, the REST service): uvicorn's
    ``configure_logging`` would re-level the shared ``uvicorn.*`` loggers and, with
    ``access_log=False``, strip the host server's access-log handlers.
    """

    def configure_logging(self) -> None:
        """Leave logging to the host application."""


class Emulator:
    """A local server that speaks Twilio's REST API (the mock mode).

    Usage::

        from twiliocore.emulator import Emulator

        with Emulator() as emulator:
            # point any Twilio client at emulator.url with
            # (emulator.account_sid, emulator.auth_token)
            ...

    ``start()`` runs uvicorn in a daemon thread and returns once the socket listens;
    ``stop()`` shuts it down and joins the thread. The instance can be shared between
    threads; its state (:meth:`messages`, :meth:`reset`) is guarded by a lock. The app
    itself (:attr:`app`) can also be served by another ASGI server or mounted in-process.

    Args:
        host: interface to listen on (loopback by default).
        port: TCP port; 0 picks a free one (read it back from :attr:`url`).
        account_sid: the emulated account's SID; a random ``AC...`` if omitted.
        auth_token: its auth token; a random one if omitted. Never logged.
        mps: one rate (segments per second) for every sender, instead of Twilio's
            defaults (1/s US/CA long code, 3/s toll-free, 100/s short code).
        max_concurrent: concurrent API requests allowed before 429 / 20429.
        queue_cap_seconds: the longest a sender's queue may grow, in seconds of its
            traffic, before creates fail with 21611 (Twilio: 10 hours).
        seed: seed of the fault generator, for reproducible faults.
        faults: fault probabilities, e.g. ``{"429": 0.1, "drop_after": 0.05}`` or
            ``"500=0.1,slow=0.2,slow_seconds=1"`` (see :mod:`twiliocore.emulator.faults`).
        status_delay: seconds between status transitions (fast by default).
        phone_numbers: senders the account owns, added to ``+15005550006`` and
            ``whatsapp:+14155238886``: ``"+14155550100"``, ``"whatsapp:+1..."``, short
            codes, alphanumeric IDs, or :class:`OwnedNumberSpec` with an SmsUrl.
        sms_url: default SmsUrl of every owned number (incoming-message webhooks).
        failing_numbers: recipients whose messages end undelivered/failed, mapped to the
            error code (default: ``+15005550010`` 30003, ``+15005550011`` 30005,
            ``+15005550012`` 30008).
        api_keys: ``{"SK...": secret}`` accepted as Basic credentials too.
        callback_attempts: deliveries tried per webhook event.
        callback_retry_delay: delay before the first webhook retry (doubles after).
        callback_timeout: per-attempt webhook timeout, seconds.
        max_body_bytes: request bodies above this get 413.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        mps: float | None = None,
        max_concurrent: int = 100,
        queue_cap_seconds: float = 36000.0,
        seed: int | None = None,
        faults: FaultConfig | Mapping[str, float] | str | None = None,
        status_delay: float = 0.05,
        phone_numbers: Iterable[str | OwnedNumberSpec] | None = None,
        sms_url: str | None = None,
        failing_numbers: Mapping[str, int] | None = None,
        api_keys: Mapping[str, str] | None = None,
        callback_attempts: int = 3,
        callback_retry_delay: float = 0.2,
        callback_timeout: float = 5.0,
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        self.config = EmulatorConfig.build(
            account_sid=account_sid,
            auth_token=auth_token,
            phone_numbers=phone_numbers,
            failing_numbers=failing_numbers,
            faults=faults,
            api_keys=api_keys,
            mps=mps,
            max_concurrent=max_concurrent,
            queue_cap_seconds=float(queue_cap_seconds),
            seed=seed,
            status_delay=float(status_delay),
            sms_url=sms_url,
            callback_attempts=callback_attempts,
            callback_retry_delay=float(callback_retry_delay),
            callback_timeout=float(callback_timeout),
            max_body_bytes=max_body_bytes,
        )
        self.host = host
        self.port = port
        self.runtime = Runtime(self.config)
        self.app = build_app(self.runtime)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, account_sid={self.account_sid!r})"

    @property
    def account_sid(self) -> str:
        """The emulated account's SID."""
        return self.config.account_sid

    @property
    def auth_token(self) -> str:
        """The emulated account's auth token (keep it out of logs)."""
        return self.config.auth_token

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8081`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # Lifecycle --------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Emulator:
        """Start serving in a background thread; return once the socket listens.

        Raises:
            RuntimeError: if already started, or the server failed to start in time.
        """
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        config = _InProcessConfig(
            self.app,
            host=self.host,
            port=self.port,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            http=_QuietH11Protocol,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        # uvicorn installs signal handlers only in the main thread; this one is not.
        self._server = server
        self._thread = threading.Thread(target=self._serve, name="twiliocore-emulator", daemon=True)
        self._thread.start()
        # The server thread calls into the C++ core (signatures, segments, numbers); it must
        # end before the interpreter finalizes, or that thread is torn down mid-call.
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        sockets = [s for srv in server.servers for s in srv.sockets]
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self

    def _serve(self) -> None:
        assert self._server is not None
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve())
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join its thread (idempotent)."""
        atexit.unregister(self.stop)
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
        self._server = None
        self._thread = None
        self._loop = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # State ------------------------------------------------------------------------------

    def reset(self, timeout: float = 10.0) -> None:
        """Clear all state (as ``POST /_emulator/reset``); safe from any other thread.

        Raises:
            RuntimeError: if called from the emulator's own event-loop thread (use
                ``await emulator.runtime.reset()`` there).
        """
        loop = self._loop
        if threading.current_thread() is self._thread:
            raise RuntimeError("reset() called from the emulator's own thread")
        if loop is not None and self._thread is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.runtime.reset(), loop).result(timeout)
        else:
            self.runtime.store.reset()
            self.runtime.queues.reset()
            self.runtime.faults.reset()

    def messages(self) -> list[dict[str, Any]]:
        """Every message accepted or received so far, as ``GET /_emulator/messages``."""
        return [record.to_inspection() for record in self.runtime.store.messages()]

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook event sent so far, as ``GET /_emulator/webhooks``."""
        return self.runtime.store.webhooks()

    def message(self, sid: str) -> MessageRecord | None:
        """Return a snapshot of one message, or ``None``."""
        return self.runtime.store.get_message(sid)
