"""Users: the current one, and creation by an admin."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError
from twiliocore.errors import InvalidPhoneNumber

from twiliocore_api import crud
from twiliocore_api.core.errors import unprocessable
from twiliocore_api.core.openapi import error_responses
from twiliocore_api.deps import AdminUser, CurrentUser, MessengerDep, SessionDep
from twiliocore_api.models import User
from twiliocore_api.schemas import UserCreate, UserPublic

router = APIRouter(prefix="/api/users", tags=["Users"])


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> User:
    """The current user."""
    return user


@router.post(
    "",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, e409="a user with this e-mail exists"),
)
def create_user(
    body: UserCreate, session: SessionDep, messenger: MessengerDep, _admin: AdminUser
) -> User:
    """Create a user (admin only)."""
    phone = None
    if body.phone_number:
        try:
            phone = messenger.normalize(body.phone_number)
        except InvalidPhoneNumber as exc:
            raise unprocessable("phone_number", f"not a valid phone number: {exc.reason}") from None
    if crud.get_user_by_email(session, email=body.email) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="a user with this e-mail exists")
    try:
        return crud.create_user(
            session, email=body.email, password=body.password, role=body.role, phone_number=phone
        )
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="a user with this e-mail exists"
        ) from None
