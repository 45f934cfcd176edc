"""Users: look-up, creation, authentication and messaging preferences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twiliocore_api.core.security import hash_password, verify_password
from twiliocore_api.models import User

__all__ = [
    "UserChanges",
    "active_admin_ids",
    "authenticate",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "list_users",
    "set_password",
    "update_preferences",
    "update_user",
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


@dataclass(frozen=True)
class UserChanges:
    """What to change on a user; ``None`` keeps a value.

    ``clear_phone_number`` removes the phone number (``phone_number`` then must be ``None``).
    """

    role: str | None = None
    is_active: bool | None = None
    phone_number: str | None = None
    clear_phone_number: bool = False
    sms_enabled: bool | None = None
    whatsapp_enabled: bool | None = None

    @property
    def removes_admin(self) -> bool:
        """True when these changes take the admin role away or deactivate the user."""
        return self.role not in (None, "admin") or self.is_active is False


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
    changes = UserChanges(
        phone_number=phone_number,
        clear_phone_number=clear_phone_number,
        sms_enabled=sms_enabled,
        whatsapp_enabled=whatsapp_enabled,
    )
    update_user(session, user=user, changes=changes)
    session.commit()
    return user


def update_user(session: Session, *, user: User, changes: UserChanges) -> User:
    """Apply ``changes`` to ``user`` and flush, **without** committing.

    The caller commits, after checking the rules that need the change in place (the
    last active admin).
    """
    if changes.role is not None:
        user.role = changes.role
    if changes.is_active is not None:
        user.is_active = changes.is_active
    if changes.clear_phone_number:
        user.phone_number = None
    elif changes.phone_number is not None:
        user.phone_number = changes.phone_number
    if changes.sms_enabled is not None:
        user.sms_enabled = changes.sms_enabled
    if changes.whatsapp_enabled is not None:
        user.whatsapp_enabled = changes.whatsapp_enabled
    session.add(user)
    session.flush()
    return user


def list_users(
    session: Session,
    *,
    role: str | None = None,
    is_active: bool | None = None,
    email_contains: str | None = None,
    skip: int = 0,
    limit: int = 100,
) -> tuple[Sequence[User], int]:
    """A page of users in id order, and the total matching.

    ``email_contains`` matches part of the e-mail, case-insensitively (``%`` and ``_``
    match themselves).
    """
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    if email_contains:
        escaped = (
            email_contains.strip()
            .lower()
            .replace("\\", "\\\\")
            .replace("%", "\\%")
            .replace("_", "\\_")
        )
        query = query.where(User.email.like(f"%{escaped}%", escape="\\"))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(User.id).limit(limit).offset(skip)).all()
    return rows, count


def active_admin_ids(session: Session, *, lock: bool = False) -> set[int]:
    """The ids of the active admins; ``lock`` holds their rows until the transaction ends.

    The lock (``SELECT ... FOR UPDATE``, a no-op on SQLite, whose writers are serialised)
    keeps two concurrent demotions from each seeing the other admin still in place.
    """
    query = select(User.id).where(User.role == "admin", User.is_active.is_(True))
    if lock:
        query = query.with_for_update()
    return set(session.scalars(query).all())


def set_password(session: Session, *, user: User, password: str) -> User:
    """Set a new (argon2-hashed) password and commit; login tokens issued before stop working."""
    user.hashed_password = hash_password(password)
    user.token_version = (user.token_version or 0) + 1
    session.add(user)
    session.commit()
    return user


def delete_user(session: Session, *, user: User) -> None:
    """Delete a user and commit.

    The database keeps their messages and bulk jobs (``user_id`` set to NULL) and removes
    their notifications, as the foreign keys say.
    """
    session.delete(user)
    session.commit()
