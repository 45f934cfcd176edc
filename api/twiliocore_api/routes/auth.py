"""Login: e-mail and password for a JWT bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from twiliocore_api import crud
from twiliocore_api.core.openapi import error_responses
from twiliocore_api.core.ratelimit import LoginGuard
from twiliocore_api.deps import (
    KeyRingDep,
    SessionDep,
    SettingsDep,
    access_token_for,
    client_address,
)
from twiliocore_api.schemas import LoginRequest, Token

router = APIRouter(prefix="/api/auth", tags=["Auth"])


def _too_many(detail: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=detail,
        headers={"Retry-After": str(retry_after)},
    )


@router.post(
    "/login",
    response_model=Token,
    responses=error_responses(
        401,
        429,
        e401="incorrect e-mail or password",
        e429="too many login attempts for this e-mail: retry after Retry-After seconds",
    ),
)
def login(
    request: Request,
    body: LoginRequest,
    session: SessionDep,
    keyring: KeyRingDep,
    settings: SettingsDep,
) -> Token:
    """Exchange e-mail and password for a bearer token."""
    guard: LoginGuard = request.app.state.login_guard
    client = client_address(request, settings)
    retry_after = guard.blocked(client)
    if retry_after is not None:
        raise _too_many(
            f"too many failed logins from this address; retry in {retry_after} s", retry_after
        )
    retry_after = request.app.state.login_limiter.hit(body.email.strip().lower())
    if retry_after is not None:
        raise _too_many(
            f"too many login attempts for this e-mail; retry in {retry_after} s", retry_after
        )
    refused = guard.acquire(client)
    if refused == "client":
        raise _too_many("a login from this address is being checked; retry in 1 s", 1)
    if refused is not None:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="too many logins are being checked; retry in 1 s",
            headers={"Retry-After": "1"},
        )
    try:
        user = crud.authenticate(session, email=body.email, password=body.password)
    finally:
        guard.release(client)
    if user is None:
        guard.failed(client)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect e-mail or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=access_token_for(user, keyring=keyring, settings=settings))
