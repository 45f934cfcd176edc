"""Twilio's response shapes: error JSON, RFC 2822 dates, SIDs, form parsing, list pages.

Every error the emulator answers has Twilio's body::

    {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211",
     "status": 400}
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "MAX_BODY_BYTES",
    "FormData",
    "TwilioError",
    "error_response",
    "new_sid",
    "form_bool",
    "paged_list",
    "query_int",
    "read_form",
    "rfc2822",
]

T = TypeVar("T")

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)

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
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TwilioError(413, 20413, f"Request body exceeds {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client left mid-body: nothing was processed, and nobody reads this answer;
        # a TwilioError keeps it out of the server's "Exception in ASGI application" log.
        raise TwilioError(400, 20001, "The client closed the connection mid-body") from None
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


def form_bool(raw: str | None, name: str) -> bool:
    """Parse a boolean form parameter as Twilio's SDKs send it: ``true`` or ``false``.

    Any letter case is accepted (twilio-python sends ``"true"``, other SDKs ``"True"``);
    absent or empty is ``False``; anything else is 400 / 20001 naming the parameter.
    """
    if raw is None or raw == "":
        return False
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise TwilioError(400, 20001, f"{name} must be true or false, not {raw!r}")
    return value == "true"


def query_int(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    """Parse an integer query or form parameter; 400 / 20001 if not in ``low..high``.

    Only ASCII digits with an optional leading ``-`` are an integer: Python's ``int()``
    would also take ``" 5"``, ``"1_000"`` or Arabic-Indic digits, which Twilio refuses.
    """
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise TwilioError(400, 20001, f"{name} must be an integer")
    try:
        value = int(raw)
    except ValueError:  # more digits than int() converts
        raise TwilioError(400, 20001, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise TwilioError(400, 20001, f"{name} must be between {low} and {high}")
    return value


def paged_list(
    request: Request,
    key: str,
    base: str,
    items: Sequence[T],
    filters: dict[str, str],
    sid_of: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
) -> JSONResponse:
    """Answer one page of a 2010 API list: ``{key: [...], end, first_page_uri, ...}``.

    ``PageSize`` (1..1000, default 50), ``Page`` and ``PageToken`` (``PA<sid>``: the page
    after that item, ``PB<sid>``: the page before it) select the page. Every page URI,
    ``uri`` included, repeats ``filters`` (the filter parameters as received, in the
    spec's order) then ``PageSize`` and ``Page``, as Twilio writes them.

    Args:
        request: the list request.
        key: the name of the items array (``messages``, ``media_list``, ``accounts``).
        base: the list's path, without query.
        items: every matching item, in list order.
        filters: the filter parameters to repeat in the page URIs.
        sid_of: an item's SID (for page tokens).
        render: an item's JSON.
    """
    query = request.query_params
    page_size = query_int(query.get("PageSize"), "PageSize", 1, 1000, 50)
    page = query_int(query.get("Page"), "Page", 0, 10**9, 0)
    token = query.get("PageToken") or None
    start = page * page_size
    if token and len(token) > 2:
        anchor = token[2:]
        index = next((i for i, item in enumerate(items) if sid_of(item) == anchor), None)
        if index is not None:
            start = index + 1 if token.startswith("PA") else max(0, index - page_size)
    chunk = items[start : start + page_size]

    def page_uri(number: int, page_token: str | None) -> str:
        params: dict[str, Any] = {**filters, "PageSize": page_size, "Page": number}
        if page_token:
            params["PageToken"] = page_token
        return f"{base}?{urlencode(params)}"

    has_next = start + page_size < len(items)
    return JSONResponse(
        {
            key: [render(item) for item in chunk],
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0, None),
            "next_page_uri": (
                page_uri(page + 1, "PA" + sid_of(chunk[-1])) if has_next and chunk else None
            ),
            "page": page,
            "page_size": page_size,
            "previous_page_uri": (
                page_uri(page - 1, "PB" + sid_of(chunk[0])) if page > 0 and chunk else None
            ),
            "start": start,
            "uri": page_uri(page, token),
        }
    )
