"""Error answers in the OpenAPI document: 401, 403, 404, 409 and 429 with one error model.

A route declares what only it knows with ``responses=error_responses(409)``. What follows
from its dependencies is added to the document by :func:`document_errors`, so every route,
present and future, documents them without repeating itself:

- 401 for routes that need a logged-in user (:func:`~twiliocore_api.deps.get_current_user`),
- 403 for admin routes (:func:`~twiliocore_api.deps.get_current_admin`) and for webhooks
  (:func:`~twiliocore_api.routes.webhooks.verified_form`, the signature check),
- 404 for routes with a path parameter (they look a record up),
- 429 for routes counted against the send rate limit
  (:func:`~twiliocore_api.deps.send_rate_limit`).

Every one of them carries :class:`~twiliocore_api.schemas.ErrorMessage`
(``{"detail": "..."}``), the shape :mod:`twiliocore_api.core.errors` answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from twiliocore_api.schemas import ErrorMessage

__all__ = ["ERROR_DESCRIPTIONS", "document_errors", "error_responses"]

#: What each documented error status means, in this service.
ERROR_DESCRIPTIONS: dict[int, str] = {
    401: "not authenticated: no bearer token, or an invalid or expired one",
    403: "forbidden: the admin role is required, or a webhook's X-Twilio-Signature is invalid",
    404: "not found (or not yours)",
    409: "conflict with the stored data",
    429: "rate limit reached: retry after the number of seconds in the Retry-After header",
}

_SCHEMA_REF = {"$ref": f"#/components/schemas/{ErrorMessage.__name__}"}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with :class:`ErrorMessage` and its description.

    Args:
        codes: the statuses, e.g. ``error_responses(409)``.
        descriptions: a route's own wording for a status, keyed ``e409="..."``.

    Returns:
        The mapping FastAPI's ``responses=`` takes.
    """
    return {
        code: {
            "model": ErrorMessage,
            "description": descriptions.get(f"e{code}", ERROR_DESCRIPTIONS[code]),
        }
        for code in codes
    }


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _derived_codes(route: APIRoute) -> list[int]:
    from twiliocore_api.deps import get_current_admin, get_current_user, send_rate_limit
    from twiliocore_api.routes.webhooks import verified_form

    calls = set(_calls(route.dependant))
    codes = []
    if get_current_user in calls:
        codes.append(401)
    if get_current_admin in calls or verified_form in calls:
        codes.append(403)
    if route.dependant.path_params:
        codes.append(404)
    if send_rate_limit in calls:
        codes.append(429)
    return codes


def _add_errors(routers: Iterable[APIRouter], schema: dict[str, Any]) -> None:
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for route in (route for router in routers for route in router.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in _derived_codes(route):
                answer = responses.setdefault(str(code), {"description": ERROR_DESCRIPTIONS[code]})
                answer.setdefault("content", {"application/json": {"schema": _SCHEMA_REF}})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        ErrorMessage.__name__,
        ErrorMessage.model_json_schema(ref_template="#/components/schemas/{model}"),
    )


def document_errors(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Make ``app``'s OpenAPI document list the error answers its routes' dependencies imply.

    Args:
        app: the app, whose ``openapi()`` is wrapped (FastAPI's documented way to extend it).
        routers: the routers ``app`` includes, without a prefix of their own (their routes
            carry the paths they are served at).
    """
    build = app.openapi
    routers = list(routers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _add_errors(routers, build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
