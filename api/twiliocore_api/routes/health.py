"""Health: mode, database and Twilio reachability."""

from __future__ import annotations

from typing import Literal

import anyio
import twiliocore
from fastapi import APIRouter, HTTPException, Request, status

from twiliocore_api.schemas import HealthPublic
from twiliocore_api.services.config import MessagingRuntime
from twiliocore_api.services.health import HealthMonitor

router = APIRouter(prefix="/api", tags=["Health"])


@router.get("/health", response_model=HealthPublic)
async def health(request: Request) -> HealthPublic:
    """Whether the service runs in mock or live mode, and what it can reach.

    Answers from the last background check (at most a second old), so it answers at once
    however busy the service is; never shed.
    """
    monitor: HealthMonitor = request.app.state.health
    messenger: MessagingRuntime = request.app.state.messenger
    snapshot = monitor.latest()
    if snapshot is None:  # the first check since start-up or a change of settings
        snapshot = await anyio.to_thread.run_sync(
            monitor.wait, limiter=request.app.state.health_threads
        )
    if snapshot is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the health check did not finish",
            headers={"Retry-After": "1"},
        )
    mode: Literal["live", "mock"] = "live" if messenger.config.mode == "live" else "mock"
    return HealthPublic(
        status="ok" if snapshot.database_reachable and snapshot.twilio_reachable else "degraded",
        mode=mode,
        database_reachable=snapshot.database_reachable,
        twilio_reachable=snapshot.twilio_reachable,
        twilio_error=snapshot.twilio_error,
        version=twiliocore.__version__,
    )
