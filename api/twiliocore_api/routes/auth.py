"""Login: e-mail and password for a JWT bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from twiliocore_api import crud
from twiliocore_api.deps import KeyRingDep, SessionDep, SettingsDep, access_token_for
from twiliocore_api.schemas import LoginRequest, Token

router = APIRouter(prefix="/api/auth", tags=["Auth"])


@router.post("/login", response_model=Token)
def login(
    body: LoginRequest, session: SessionDep, keyring: KeyRingDep, settings: SettingsDep
) -> Token:
    """Exchange e-mail and password for a bearer token."""
    user = crud.authenticate(session, email=body.email, password=body.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect e-mail or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=access_token_for(user, keyring=keyring, settings=settings))
