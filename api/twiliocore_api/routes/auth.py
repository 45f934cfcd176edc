"""Login: e-mail and password for a JWT bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from twiliocore_api import crud
from twiliocore_api.core.openapi import error_responses
from twiliocore_api.deps import KeyRingDep, SessionDep, SettingsDep, access_token_for
from twiliocore_api.schemas import LoginRequest, Token

router = APIRouter(prefix="/api/auth", tags=["Auth"])


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
    retry_after = request.app.state.login_limiter.hit(body.email.strip().lower())
    if retry_after is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many login attempts for this e-mail; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    user = crud.authenticate(session, email=body.email, password=body.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect e-mail or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=access_token_for(user, keyring=keyring, settings=settings))
