"""Health: mode, database and Twilio reachability."""

from __future__ import annotations

import logging
from typing import Literal

import twiliocore
from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from twiliocore_api import crud
from twiliocore_api.deps import MessengerDep, SessionDep
from twiliocore_api.schemas import HealthPublic

router = APIRouter(prefix="/api", tags=["Health"])
logger = logging.getLogger("twiliocore_api")


@router.get("/health", response_model=HealthPublic)
def health(session: SessionDep, messenger: MessengerDep) -> HealthPublic:
    """Whether the service runs in mock or live mode, and what it can reach."""
    try:
        crud.ping(session)
        database_ok = True
    except SQLAlchemyError as exc:
        logger.warning("health: database unreachable: %s", type(exc).__name__)
        database_ok = False
    twilio_ok, twilio_error = messenger.twilio_reachable()
    mode: Literal["live", "mock"] = "live" if messenger.config.mode == "live" else "mock"
    return HealthPublic(
        status="ok" if database_ok and twilio_ok else "degraded",
        mode=mode,
        database_reachable=database_ok,
        twilio_reachable=twilio_ok,
        twilio_error=twilio_error,
        version=twiliocore.__version__,
    )
