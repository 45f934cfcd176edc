"""The app factory: ``create_app(settings=None)``.

The lifespan resolves ``SECRET_KEY``, opens the database and applies the Alembic
migrations, creates the first admin, and starts the messaging layer (in mock mode the
bundled Twilio emulator runs in-process); on shutdown it stops them again. Nothing is
created at import time.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import twiliocore
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from twiliocore_api import crud
from twiliocore_api.core.config import Settings, load_settings, resolve_secret_key
from twiliocore_api.core.db import make_engine, make_session_factory, run_migrations
from twiliocore_api.core.errors import install_error_handlers
from twiliocore_api.core.limits import BodySizeLimit
from twiliocore_api.core.openapi import document_errors
from twiliocore_api.core.ratelimit import RateLimiter
from twiliocore_api.core.security import KeyRing
from twiliocore_api.messaging import Messenger
from twiliocore_api.models import User
from twiliocore_api.routes import auth, docs, health, notifications, sms, users, web, webhooks

__all__ = ["create_app"]

logger = logging.getLogger("twiliocore_api")


def _operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_") + "-" + route.name


def ensure_first_admin(session_factory: sessionmaker[Session], settings: Settings) -> None:
    """Create the first admin when there is none (password printed once if generated)."""
    with session_factory() as session:
        if session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
            return
        generated = settings.ADMIN_PASSWORD is None
        password = (
            secrets.token_urlsafe(12)
            if settings.ADMIN_PASSWORD is None
            else settings.ADMIN_PASSWORD.get_secret_value()
        )
        crud.create_user(session, email=settings.ADMIN_EMAIL, password=password, role="admin")
    if generated:
        logger.warning(
            "created the first admin %s with the generated password %s "
            "(shown once; set ADMIN_PASSWORD to choose it)",
            settings.ADMIN_EMAIL,
            password,
        )
    else:
        logger.info(
            "created the first admin %s (password from ADMIN_PASSWORD)", settings.ADMIN_EMAIL
        )


def _startup(app: FastAPI, settings: Settings) -> None:
    keyring = KeyRing(resolve_secret_key(settings))
    engine = make_engine(settings.DATABASE_URL)
    run_migrations(engine)
    session_factory = make_session_factory(engine)
    ensure_first_admin(session_factory, settings)
    messenger = Messenger(settings, session_factory, keyring)
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.keyring = keyring
    app.state.login_limiter = RateLimiter(settings.LOGIN_RATE_LIMIT, 300.0)
    app.state.send_limiter = RateLimiter(
        settings.SEND_RATE_LIMIT, settings.SEND_RATE_WINDOW_SECONDS
    )
    try:
        messenger.start()
    except Exception:
        engine.dispose()
        raise
    app.state.messenger = messenger
    config = messenger.config
    if config.mode == "mock":
        logger.warning(
            "twiliocore service ready in MOCK MODE at %s (docs: %s/api/docs)",
            settings.public_base_url,
            settings.public_base_url,
        )
    else:
        logger.info(
            "twiliocore service ready in LIVE MODE (account %s, credentials from %s) at %s",
            config.account_sid,
            config.source,
            settings.public_base_url,
        )


def _shutdown(app: FastAPI) -> None:
    messenger: Messenger | None = getattr(app.state, "messenger", None)
    if messenger is not None:
        messenger.stop()
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service's ASGI app.

    Args:
        settings: the configuration; read from the environment (and ``.env``) when omitted.

    Returns:
        The FastAPI app; its lifespan starts the database and the messaging layer.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings if settings is not None else load_settings()
        app.state.settings = resolved
        await run_in_threadpool(_startup, app, resolved)
        try:
            yield
        finally:
            await run_in_threadpool(_shutdown, app)

    app = FastAPI(
        title="twiliocore service",
        summary="SMS & WhatsApp through Twilio: send, bulk, status, history, webhooks.",
        version=twiliocore.__version__,
        openapi_url="/api/openapi.json",
        # Served by routes/docs.py from the package's own assets (no CDN).
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=lambda: app.state.settings.request_byte_limit)
    routers = [m.router for m in (auth, users, sms, notifications, health, webhooks, web, docs)]
    for router in routers:
        app.include_router(router)
    document_errors(app, routers)
    return app
