"""FastAPI dependencies: database session, settings, messaging, current user, rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from twiliocore_api.core.config import Settings
from twiliocore_api.core.ratelimit import RateLimiter
from twiliocore_api.core.security import KeyRing
from twiliocore_api.models import User
from twiliocore_api.schemas import MAX_INT
from twiliocore_api.services.bulk import BulkJobs
from twiliocore_api.services.config import MessagingRuntime

__all__ = [
    "AdminUser",
    "BulkDep",
    "CurrentUser",
    "KeyRingDep",
    "MessengerDep",
    "SendRateLimit",
    "SessionDep",
    "SettingsDep",
    "access_token_for",
    "client_address",
]

_bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/auth/login")


# The dependencies that only read app state are ``async def``: FastAPI runs a plain ``def``
# dependency in its thread pool, and each such hop costs more than the work (a send route
# used to take eight hops before it ran). Those that touch the database stay in threads.


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A database session for one request.

    Making a session does no I/O, so it is made on the event loop; closing one that still
    holds a connection (a transaction the request left open) rolls it back, which is I/O, so
    that close runs in a worker thread.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_keyring(request: Request) -> KeyRing:
    """The keys derived from ``SECRET_KEY``."""
    return request.app.state.keyring  # type: ignore[no-any-return]


async def get_messenger(request: Request) -> MessagingRuntime:
    """The messaging layer."""
    return request.app.state.messenger  # type: ignore[no-any-return]


async def get_bulk(request: Request) -> BulkJobs:
    """The bulk jobs."""
    return request.app.state.bulk  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]
MessengerDep = Annotated[MessagingRuntime, Depends(get_messenger)]
BulkDep = Annotated[BulkJobs, Depends(get_bulk)]


def client_address(request: Request, settings: Settings) -> str:
    """The address of the client that sent ``request``, for per-client limits.

    With ``TRUST_PROXY_HEADERS`` (behind a proxy you control), the last address of
    ``X-Forwarded-For``, which that proxy appended; otherwise the connection's peer.
    """
    if settings.TRUST_PROXY_HEADERS:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.client.host if request.client is not None else "unknown"


def access_token_for(user: User, *, keyring: KeyRing, settings: Settings) -> str:
    """Issue a login token for ``user``."""
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return keyring.create_access_token(str(user.id), expires, version=user.token_version)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_user(
    session: SessionDep,
    keyring: KeyRingDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("not authenticated: send 'Authorization: Bearer <access_token>'")
    try:
        claims = keyring.decode_access_token(credentials.credentials)
        user_id = int(claims["sub"])
        # Tokens issued before versions existed carry none: they are version 0.
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("ver")
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise _unauthorized("invalid or expired access token") from None
    if not 1 <= user_id <= MAX_INT:  # no user has such an id, and no database holds it
        raise _unauthorized("invalid or expired access token")
    user = session.get(User, user_id)
    # End the read here, so the connection goes back to the pool before the route runs:
    # between the dependencies and the route a request waits for a worker thread, and
    # requests holding connections while they wait starved those holding the threads (the
    # service stalled at ~55 concurrent requests). The user's attributes stay loaded.
    session.commit()
    if user is None or not user.is_active or user.token_version != version:
        raise _unauthorized("invalid or expired access token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_admin(user: CurrentUser) -> User:
    """The current user if an admin; 403 otherwise."""
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="admin role required")
    return user


AdminUser = Annotated[User, Depends(get_current_admin)]


async def send_rate_limit(request: Request, user: CurrentUser) -> User:
    """Count a send against the user's rate limit; 429 with Retry-After past it."""
    limiter: RateLimiter = request.app.state.send_limiter
    retry_after = limiter.hit(user.id)
    if retry_after is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=(
                f"rate limit: at most {limiter.limit} send requests per "
                f"{limiter.window:g} s; retry in {retry_after} s"
            ),
            headers={"Retry-After": str(retry_after)},
        )
    return user


SendRateLimit = Annotated[User, Depends(send_rate_limit)]
