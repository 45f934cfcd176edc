"""In-app notifications; ``POST`` is ``notify_user`` over HTTP for workflow code elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from twiliocore_api import crud
from twiliocore_api.core.errors import unprocessable
from twiliocore_api.deps import AdminUser, CurrentUser, MessengerDep, SessionDep
from twiliocore_api.schemas import (
    MAX_INT,
    NotificationCreate,
    NotificationPublic,
    NotificationResult,
    NotificationsPublic,
)
from twiliocore_api.services import notify as notify_service

router = APIRouter(prefix="/api/notifications", tags=["Notifications"])


@router.get("", response_model=NotificationsPublic)
def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> NotificationsPublic:
    """Your notifications, newest first."""
    rows, count = crud.list_notifications(session, user_id=user.id, limit=limit, offset=offset)
    return NotificationsPublic(
        data=[NotificationPublic.model_validate(r) for r in rows], count=count
    )


@router.post("", response_model=NotificationResult, status_code=status.HTTP_201_CREATED)
def notify(
    body: NotificationCreate, session: SessionDep, messenger: MessengerDep, _admin: AdminUser
) -> NotificationResult:
    """Notify a user by their preferences (SMS, WhatsApp) and in-app (admin)."""
    try:
        notified = notify_service.notify(
            messenger, session, user_id=body.user_id, message=body.message
        )
    except LookupError:
        raise unprocessable("user_id", f"no user with id {body.user_id}") from None
    return NotificationResult.model_validate(notified.to_dict())
