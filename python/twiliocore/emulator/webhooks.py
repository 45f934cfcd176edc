"""Signed webhook delivery (status callbacks and incoming messages), with retries.

Each event is form-encoded, signed with ``X-Twilio-Signature`` over the exact URL and the
parameters (the account's auth token, through :class:`twiliocore.RequestValidator`), and
carries an ``I-Twilio-Idempotency-Token`` that stays the same on every retry of the event.
A delivery fails on a connection error, a timeout or a 5xx answer, and is retried a few
times with a growing delay; a failure is logged in the store and never stops the emulator.

The HTTP client is a small asyncio HTTP/1.1 client (one connection per attempt, as a
webhook sender does), so the emulator needs no HTTP-client dependency.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import ssl
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from twiliocore.emulator.state import Store, WebhookRecord
from twiliocore.request_validator import RequestValidator

__all__ = ["HttpAnswer", "WebhookSender", "http_request", "is_http_url", "redact_url"]

logger = logging.getLogger("twiliocore.emulator.webhooks")

USER_AGENT = "TwilioProxy/1.1"
_MAX_ANSWER_BYTES = 1024 * 1024


@dataclass
class HttpAnswer:
    """What a webhook receiver answered."""

    status: int
    body: bytes
    content_type: str


async def http_request(
    method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
) -> HttpAnswer:
    """Send one HTTP/1.1 request on a fresh connection and read the answer.

    Raises:
        OSError: connection failures.
        asyncio.TimeoutError: no complete answer within ``timeout``.
        ValueError: an unparseable answer or an unsupported URL.
    """
    return await asyncio.wait_for(_request(method, url, headers, body), timeout)


async def _request(method: str, url: str, headers: dict[str, str], body: bytes) -> HttpAnswer:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"unsupported webhook URL scheme {parts.scheme!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = ssl.create_default_context() if parts.scheme == "https" else None
    reader, writer = await asyncio.open_connection(
        parts.hostname, port, ssl=context, server_hostname=parts.hostname if context else None
    )
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        host = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if parts.username is not None:
            # Credentials in the webhook URL are sent as Basic auth, as Twilio does.
            userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(userinfo.encode()).decode())
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        return await _read_answer(reader)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass


async def _read_answer(reader: asyncio.StreamReader) -> HttpAnswer:
    """Read one HTTP/1.1 answer: status, headers, and a body framed as the headers say.

    Reading stops at the end of the body, so a receiver that keeps the connection open
    despite ``Connection: close`` does not stall the delivery.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise ValueError("connection closed before a complete HTTP answer") from None
    except asyncio.LimitOverrunError:
        raise ValueError("HTTP answer headers too large") from None
    lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[0].startswith("HTTP/"):
        raise ValueError("malformed HTTP status line")
    status = int(status_parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunks(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > _MAX_ANSWER_BYTES:
            raise ValueError("HTTP answer body too large")
        body = await reader.readexactly(length)
    else:
        body = await reader.read(_MAX_ANSWER_BYTES)
    return HttpAnswer(status, body, headers.get("content-type", ""))


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        if len(out) + size > _MAX_ANSWER_BYTES:
            raise ValueError("HTTP answer body too large")
        out += await reader.readexactly(size)
        await reader.readline()


def is_http_url(url: str) -> bool:
    """True if ``url`` is an absolute http(s) URL with a host name and a valid port.

    ``urlsplit`` raises ``ValueError`` for a bad bracketed host (``http://[::1``) and
    ``.port`` for a port that is not a number in 0..65535: both make the URL invalid.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (read for its ValueError)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def redact_url(url: str) -> str:
    """Return ``url`` with any password in it replaced by ``***`` (for logs).

    A URL ``urlsplit`` cannot read (``http://[::1``) is shown with everything between
    ``//`` and the last ``@`` masked, in case it holds credentials.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/]*@", "//***@", url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class WebhookSender:
    """Delivers signed webhooks for one account.

    Args:
        store: where every event and attempt is logged.
        auth_token: the account's auth token (signing key; never logged).
        attempts: deliveries tried per event (first try included).
        retry_delay: delay before the first retry; doubled for each next one.
        timeout: per-attempt timeout in seconds.
    """

    def __init__(
        self,
        store: Store,
        auth_token: str,
        *,
        attempts: int,
        retry_delay: float,
        timeout: float,
    ) -> None:
        self._store = store
        self._validator = RequestValidator(auth_token)
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.timeout = timeout

    def sign(self, url: str, params: list[tuple[str, str]]) -> str:
        """Return the ``X-Twilio-Signature`` of a form POST of ``params`` to ``url``."""
        return self._validator.compute_signature(url, params)

    async def deliver(
        self,
        kind: str,
        url: str,
        params: list[tuple[str, str]],
        *,
        message_sid: str | None = None,
        method: str = "POST",
    ) -> tuple[WebhookRecord, HttpAnswer | None]:
        """Deliver one event, retrying failures; never raises for delivery problems.

        Args:
            kind: ``"status"`` or ``"incoming"`` (for the log).
            url: the receiver's URL, exactly as configured.
            params: the form parameters.
            message_sid: the message the event is about.
            method: ``POST`` (form body) or ``GET`` (parameters in the query string).

        Returns:
            The logged record and the last answer (``None`` if none arrived).
        """
        method = method.upper()
        record = WebhookRecord(kind, url, list(params), str(uuid.uuid4()), message_sid, method)
        self._store.add_webhook(record)
        encoded = urlencode(params).encode("ascii")
        target = url
        if method == "GET":
            target = url + ("&" if "?" in url else "?") + encoded.decode("ascii")
            signature = self.sign(target, [])
            body = b""
        else:
            signature = self.sign(url, params)
            body = encoded
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": record.idempotency_token,
        }
        if method != "GET":
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        answer: HttpAnswer | None = None
        delay = self.retry_delay
        for attempt in range(1, self.attempts + 1):
            started = time.time()
            error: str | None = None
            answer = None
            try:
                answer = await http_request(method, target, headers, body, self.timeout)
            except (
                OSError,
                asyncio.TimeoutError,
                asyncio.IncompleteReadError,
                ValueError,
                ssl.SSLError,
                # A host name needs the loop's resolver threads, which Python refuses to
                # start once the interpreter is exiting (an emulator left running to exit).
                RuntimeError,
            ) as exc:
                error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            ok = answer is not None and answer.status < 500
            self._store.record_attempt(
                record,
                {
                    "attempt": attempt,
                    "time": started,
                    "status": answer.status if answer is not None else None,
                    "error": error,
                },
                ok,
            )
            if ok:
                break
            logger.info(
                "%s webhook to %s failed (attempt %d/%d): %s",
                kind,
                redact_url(url),
                attempt,
                self.attempts,
                error or f"HTTP {answer.status if answer else '?'}",
            )
            if attempt < self.attempts:
                await asyncio.sleep(delay)
                delay *= 2
        return record, answer
