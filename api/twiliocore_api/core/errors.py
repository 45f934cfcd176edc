"""Error answers: 422 bodies that name the field (and never echo input), no bare 500s."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["body_error", "install_error_handlers", "invalid_body", "unprocessable"]

logger = logging.getLogger("twiliocore_api")


def unprocessable(
    field: str | Sequence[str | int], message: str, *, where: str = "body"
) -> RequestValidationError:
    """A 422 for one field, e.g. ``unprocessable("to_number", "too short")``.

    ``where`` is the part of the request holding the field: ``"body"`` (the JSON body)
    or ``"query"`` (a query parameter).
    """
    loc = (where, field) if isinstance(field, str) else (where, *field)
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def invalid_body(exc: ValidationError) -> RequestValidationError:
    """A 422 listing every error of a body a route validated itself (e.g. with a context)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in errors])


def body_error(status_code: int, message: str, error_type: str) -> JSONResponse:
    """An error about the request body as a whole, shaped as the 422s are."""
    return JSONResponse(
        status_code=status_code,
        content={
            "detail": [{"loc": ["body"], "field": "body", "msg": message, "type": error_type}]
        },
    )


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


def _not_an_object(error: dict[str, Any], request: Request) -> dict[str, Any]:
    # A body that is not a JSON object (an array, a string, or JSON sent as a form, as
    # `curl -d` does without -H): say what is expected rather than pydantic's words.
    if error["field"] != "body" or error["type"] not in ("model_attributes_type", "dict_type"):
        return error
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    msg = "must be a JSON object"
    if content_type != "application/json":
        msg += f" sent with Content-Type: application/json (got {content_type[:100] or 'none'!r})"
    return {**error, "msg": msg}


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [_not_an_object(_clean(e), request) for e in exc.errors()]},
    )


def _unparsable_body_reason(exc: StarletteHTTPException) -> str | None:
    """Why a JSON body could not be parsed, when ``exc`` is FastAPI's generic 400 for it.

    FastAPI turns a ``json.JSONDecodeError`` into a 422 itself, but answers a bare 400
    when decoding fails otherwise: bytes that are not UTF-8, nesting too deep for the
    parser, or a number with more digits than Python converts. All three are malformed
    JSON to the client.
    """
    if exc.status_code != status.HTTP_400_BAD_REQUEST:
        return None
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "not valid UTF-8"
    if isinstance(cause, RecursionError):
        return "nested too deeply"
    if isinstance(cause, ValueError):
        if "integer string conversion" in str(cause):
            return "a number has too many digits"
        return "cannot be decoded"
    return None


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_413_CONTENT_TOO_LARGE:
        return body_error(exc.status_code, str(exc.detail), "too_large")
    reason = _unparsable_body_reason(exc)
    if reason is None:
        return await http_exception_handler(request, exc)
    return body_error(
        status.HTTP_422_UNPROCESSABLE_CONTENT, f"malformed JSON: {reason}", "json_invalid"
    )


async def _pool_timeout_handler(request: Request, exc: Exception) -> JSONResponse:
    # Every database connection stayed busy for DB_POOL_TIMEOUT_SECONDS: overloaded, not
    # broken. Say so, and when to come back.
    logger.warning("no database connection came free for %s %s", request.method, request.url.path)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the database is busy; retry in 1 s"},
        headers={"Retry-After": "1"},
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
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(PoolTimeout, _pool_timeout_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
