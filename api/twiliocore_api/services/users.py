"""Users: the rules around changing and deleting users and changing one's password.

The rule that matters most: the service always keeps at least one active admin, so
nobody can lock everyone out of the settings and the user list. A demotion,
deactivation or deletion that would remove the last active admin is refused with
:class:`UserConflict`, checked with the active admins' rows locked (PostgreSQL) and
re-checked with the change in place before it is committed (SQLite serialises writers),
so two admins demoting each other at once cannot both succeed.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.core.security import verify_password
from twiliocore_api.models import User

__all__ = [
    "LAST_ADMIN",
    "UserConflict",
    "UserNotFound",
    "WrongPassword",
    "change_password",
    "delete_user",
    "get_user",
    "update_user",
]

logger = logging.getLogger("twiliocore_api")

LAST_ADMIN = (
    "the service must keep at least one active admin: make another user an active admin first"
)


class UserNotFound(LookupError):
    """Raised when no user has the id asked for."""


class UserConflict(Exception):
    """Raised when a change would break a rule (the last admin, deleting oneself)."""


class WrongPassword(ValueError):
    """Raised when ``current_password`` is not the user's password."""


def get_user(session: Session, *, user_id: int) -> User:
    """The user with this id; raises :class:`UserNotFound`."""
    user = crud.get_user(session, user_id=user_id)
    if user is None:
        raise UserNotFound(f"no user has id {user_id}")
    return user


def _would_remove_last_admin(session: Session, user: User) -> bool:
    admins = crud.active_admin_ids(session, lock=True)
    return user.id in admins and not admins - {user.id}


def update_user(session: Session, *, user_id: int, changes: crud.UserChanges) -> User:
    """Apply ``changes`` to the user with ``user_id`` and commit.

    Raises:
        UserNotFound: no user has ``user_id``.
        UserConflict: the change would leave no active admin.
    """
    user = get_user(session, user_id=user_id)
    if changes.removes_admin and _would_remove_last_admin(session, user):
        session.rollback()
        raise UserConflict(LAST_ADMIN)
    crud.update_user(session, user=user, changes=changes)
    if changes.removes_admin and not crud.active_admin_ids(session):
        session.rollback()
        raise UserConflict(LAST_ADMIN)
    session.commit()
    if changes.role is not None or changes.is_active is not None:
        logger.info(
            "user %s is now %s (%s)",
            user.id,
            user.role,
            "active" if user.is_active else "inactive",
        )
    return user


def delete_user(session: Session, *, user_id: int, actor: User) -> None:
    """Delete a user; their messages stay (without owner), their notifications go.

    Raises:
        UserNotFound: no user has ``user_id``.
        UserConflict: ``actor`` deleting themself, or the last active admin.
    """
    user = get_user(session, user_id=user_id)
    if user.id == actor.id:
        raise UserConflict("you cannot delete yourself: another admin can")
    if _would_remove_last_admin(session, user):
        session.rollback()
        raise UserConflict(LAST_ADMIN)
    crud.delete_user(session, user=user)
    logger.info("user %s deleted by user %s", user_id, actor.id)


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> User:
    """Set ``user``'s password after checking the current one; older login tokens stop working.

    Raises:
        WrongPassword: ``current_password`` is not the user's password.
    """
    if not verify_password(current_password, user.hashed_password):
        raise WrongPassword("current_password is not your current password")
    crud.set_password(session, user=user, password=new_password)
    logger.info("user %s changed their password; older login tokens no longer work", user.id)
    return user
