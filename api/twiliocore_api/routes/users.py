"""Users: the current one, listing and changes by an admin, and changing one's password."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from sqlalchemy.exc import IntegrityError
from twiliocore.errors import InvalidPhoneNumber

from twiliocore_api import crud
from twiliocore_api.core.errors import unprocessable
from twiliocore_api.core.openapi import error_responses
from twiliocore_api.deps import (
    AdminUser,
    CurrentUser,
    KeyRingDep,
    MessengerDep,
    SessionDep,
    SettingsDep,
    access_token_for,
)
from twiliocore_api.models import User
from twiliocore_api.schemas import (
    MAX_INT,
    PasswordChange,
    Token,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)
from twiliocore_api.services import users
from twiliocore_api.services.config import MessagingRuntime

router = APIRouter(prefix="/api/users", tags=["Users"])

UserId = Annotated[int, Path(ge=1, le=MAX_INT, description="The user's id.")]


def _phone(messenger: MessagingRuntime, number: str) -> str:
    try:
        return messenger.normalize(number)
    except InvalidPhoneNumber as exc:
        raise unprocessable("phone_number", f"not a valid phone number: {exc.reason}") from None


def _not_found(exc: users.UserNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc))


def _conflict(exc: users.UserConflict) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=str(exc))


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> User:
    """The current user."""
    return user


@router.post("/me/password", response_model=Token)
def change_my_password(
    body: PasswordChange,
    session: SessionDep,
    keyring: KeyRingDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> Token:
    """Change my password; older login tokens stop working, and a new one is returned."""
    try:
        users.change_password(
            session,
            user=user,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    except users.WrongPassword:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=[
                {
                    "loc": ["body", "current_password"],
                    "field": "current_password",
                    "msg": "is not your current password",
                    "type": "wrong_password",
                }
            ],
        ) from None
    return Token(access_token=access_token_for(user, keyring=keyring, settings=settings))


@router.get("", response_model=UsersPublic)
def list_users(
    session: SessionDep,
    _admin: AdminUser,
    skip: Annotated[int, Query(ge=0, le=MAX_INT, description="Users to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Users per page.")] = 100,
    role: Annotated[Literal["admin", "user"] | None, Query(description="Only this role.")] = None,
    is_active: Annotated[bool | None, Query(description="Only active or inactive.")] = None,
    search: Annotated[
        str | None, Query(min_length=1, max_length=320, description="Part of the e-mail.")
    ] = None,
) -> UsersPublic:
    """List users, in id order (admin)."""
    rows, count = crud.list_users(
        session, role=role, is_active=is_active, email_contains=search, skip=skip, limit=limit
    )
    return UsersPublic(
        data=[UserPublic.model_validate(row) for row in rows], count=count, skip=skip, limit=limit
    )


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
    phone = _phone(messenger, body.phone_number) if body.phone_number else None
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


@router.get("/{user_id}", response_model=UserPublic)
def read_user(user_id: UserId, session: SessionDep, viewer: CurrentUser) -> User:
    """A user (admin, or the user themself)."""
    if not viewer.is_admin and viewer.id != user_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="admin role required to read other users"
        )
    try:
        return users.get_user(session, user_id=user_id)
    except users.UserNotFound as exc:
        raise _not_found(exc) from None


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(
    user_id: UserId,
    body: UserUpdate,
    session: SessionDep,
    messenger: MessengerDep,
    _admin: AdminUser,
) -> User:
    """Change a user's role, active state, phone number or channels (admin)."""
    given = body.model_fields_set
    phone = _phone(messenger, body.phone_number) if body.phone_number else None
    try:
        return users.update_user(
            session,
            user_id=user_id,
            changes=crud.UserChanges(
                role=body.role,
                is_active=body.is_active,
                phone_number=phone,
                clear_phone_number="phone_number" in given and body.phone_number is None,
                sms_enabled=body.sms_enabled,
                whatsapp_enabled=body.whatsapp_enabled,
            ),
        )
    except users.UserNotFound as exc:
        raise _not_found(exc) from None
    except users.UserConflict as exc:
        raise _conflict(exc) from None


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: UserId, session: SessionDep, admin: AdminUser) -> Response:
    """Delete a user (admin; not yourself, not the last admin); their messages are kept."""
    try:
        users.delete_user(session, user_id=user_id, actor=admin)
    except users.UserNotFound as exc:
        raise _not_found(exc) from None
    except users.UserConflict as exc:
        raise _conflict(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
