"""Twilio's response shapes: error JSON, RFC 2822 dates, SIDs, form parsing.

Every error the emulator answers has Twilio's body::

    {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211",
     "status": 400}
"""

from __future__ import annotations

import secrets
import time
from email.utils import formatdate
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "MAX_BODY_BYTES",
    "FormData",
    "TwilioError",
    "error_response",
    "new_sid",
    "read_form",
    "rfc2822",
]

#: Default request-body limit; larger bodies get 413 (a create is a few kilobytes at most).
MAX_BODY_BYTES = 1024 * 1024


class TwilioError(Exception):
    """An API error answered with Twilio's error JSON.

    Args:
        status: the HTTP status.
        code: Twilio's error code.
        message: the human-readable message (never contains secrets).
        headers: extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        """Build the JSON response for this error."""
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Return Twilio's error JSON ``{code, message, more_info, status}``."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def new_sid(prefix: str) -> str:
    """Return a new SID: the two-letter ``prefix`` and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(timestamp: float | None = None) -> str:
    """Format a Unix timestamp as Twilio's 2010 API does: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return formatdate(time.time() if timestamp is None else timestamp, usegmt=False).replace(
        "-0000", "+0000"
    )


class FormData:
    """A parsed form body: repeated names keep every value, in order.

    Args:
        pairs: the (name, value) pairs as they arrived.
    """

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of ``name``, or ``default``."""
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        """Return every value of ``name``, in order."""
        return [value for key, value in self.pairs if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.pairs)


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing more than ``limit`` bytes with 413."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise TwilioError(413, 20413, f"Request body exceeds {limit} bytes")
        except ValueError:
            raise TwilioError(400, 20001, "Invalid Content-Length header") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TwilioError(413, 20413, f"Request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int = MAX_BODY_BYTES) -> FormData:
    """Parse an ``application/x-www-form-urlencoded`` body the way Twilio accepts it.

    A body that is not UTF-8 (raw or after percent-decoding) gets 400 with code 20001.
    Other content types are read as empty forms, as Twilio ignores them.
    """
    raw = await read_body(request, limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw or content_type not in ("", "application/x-www-form-urlencoded"):
        return FormData([])
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise TwilioError(400, 20001, "Request body is not valid UTF-8 form data") from None
    return FormData(pairs)
