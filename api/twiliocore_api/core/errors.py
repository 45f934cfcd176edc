"""Error answers: 422 bodies that name the field (and never echo input), no bare 500s."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["install_error_handlers", "unprocessable"]

logger = logging.getLogger("twiliocore_api")


def unprocessable(field: str | Sequence[str | int], message: str) -> RequestValidationError:
    """A 422 for one field of the JSON body, e.g. ``unprocessable("to_number", "too short")``."""
    loc = ("body", field) if isinstance(field, str) else ("body", *field)
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    # Never echo the input back: it may carry a password or an auth token.
    msg = str(error.get("msg", "invalid"))
    loc = list(error.get("loc", ()))
    field = _field_name(loc)
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "cannot be parsed")
        position = loc[1] if len(loc) > 1 else None
        msg = f"malformed JSON: {reason}" + (f" at character {position}" if position else "")
        field = "body"
    return {
        "loc": loc,
        "field": field,
        "msg": msg,
        "type": error.get("type", "value_error"),
    }


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [_clean(e) for e in exc.errors()]},
    )


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "internal error; the service log has the request path"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
