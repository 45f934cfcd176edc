"""Users: look-up, creation, authentication and messaging preferences."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from twiliocore_api.core.security import hash_password, verify_password
from twiliocore_api.models import User

__all__ = [
    "authenticate",
    "create_user",
    "get_user",
    "get_user_by_email",
    "update_preferences",
]


def get_user(session: Session, *, user_id: int) -> User | None:
    """The user with this id, or ``None``."""
    return session.get(User, user_id)


def get_user_by_email(session: Session, *, email: str) -> User | None:
    """The user with this e-mail (case-insensitive), or ``None``."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str = "user",
    phone_number: str | None = None,
) -> User:
    """Create a user with an argon2-hashed password; raises ``IntegrityError`` on a duplicate."""
    user = User(
        email=email.strip().lower(),
        hashed_password=hash_password(password),
        role=role,
        phone_number=phone_number,
        is_active=True,
        sms_enabled=True,
        whatsapp_enabled=False,
    )
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``."""
    user = get_user_by_email(session, email=email)
    if user is None:
        # Same work as a real check, so timing does not reveal which e-mails exist.
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.hashed_password) or not user.is_active:
        return None
    return user


_DUMMY_HASH = hash_password("not a real password")


def update_preferences(
    session: Session,
    *,
    user: User,
    phone_number: str | None = None,
    clear_phone_number: bool = False,
    sms_enabled: bool | None = None,
    whatsapp_enabled: bool | None = None,
) -> User:
    """Change a user's messaging preferences and commit; what is ``None`` stays as it is.

    ``clear_phone_number`` removes the phone number (``phone_number`` then must be ``None``).
    """
    if clear_phone_number:
        user.phone_number = None
    elif phone_number is not None:
        user.phone_number = phone_number
    if sms_enabled is not None:
        user.sms_enabled = sms_enabled
    if whatsapp_enabled is not None:
        user.whatsapp_enabled = whatsapp_enabled
    session.add(user)
    session.commit()
    return user
