"""The app factory: ``create_app(settings=None)``.

The lifespan resolves ``SECRET_KEY``, opens the database (prepared by the prestart step,
:mod:`twiliocore_api.prestart`: migrations and the first admin are not app start-up),
starts the messaging layer (in mock mode the bundled Twilio emulator runs in-process)
and the job worker; on shutdown it stops them again. Nothing is created at import time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import twiliocore
from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from twiliocore_api.core.config import Settings, load_settings, resolve_secret_key
from twiliocore_api.core.db import check_schema, make_engine, make_session_factory
from twiliocore_api.core.errors import install_error_handlers
from twiliocore_api.core.limits import BodySizeLimit
from twiliocore_api.core.openapi import document_errors
from twiliocore_api.core.ratelimit import LoginGuard, RateLimiter
from twiliocore_api.core.security import KeyRing
from twiliocore_api.core.shedding import Gate, LoadShedder
from twiliocore_api.routes import auth, docs, health, notifications, sms, users, web, webhooks
from twiliocore_api.services.bulk import BULK_SEND, BulkJobs
from twiliocore_api.services.config import MessagingRuntime
from twiliocore_api.services.health import HealthMonitor
from twiliocore_api.services.inbound.inbox import Inbox
from twiliocore_api.services.reconcile import RECONCILE_SEND, SendReconciler
from twiliocore_api.worker import SqlJobQueue, Worker

__all__ = ["create_app"]

logger = logging.getLogger("twiliocore_api")


def _operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_") + "-" + route.name


def _startup(app: FastAPI, settings: Settings) -> None:
    keyring = KeyRing(resolve_secret_key(settings))
    engine = make_engine(
        settings.DATABASE_URL,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.DB_POOL_TIMEOUT_SECONDS,
        sqlite_synchronous=settings.SQLITE_SYNCHRONOUS,
    )
    try:
        check_schema(engine)
    except Exception:
        engine.dispose()
        raise
    session_factory = make_session_factory(engine)
    messenger = MessagingRuntime(settings, session_factory, keyring)
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.keyring = keyring
    app.state.login_limiter = RateLimiter(settings.LOGIN_RATE_LIMIT, 300.0)
    app.state.login_guard = LoginGuard(
        failures_per_client=settings.LOGIN_FAILURES_PER_CLIENT, hashes=settings.login_hash_limit
    )
    app.state.send_limiter = RateLimiter(
        settings.SEND_RATE_LIMIT, settings.SEND_RATE_WINDOW_SECONDS
    )
    try:
        messenger.start()
    except Exception:
        engine.dispose()
        raise
    app.state.messenger = messenger
    inbox = Inbox(session_factory, messenger.inbound)
    # The health check's own connection: never waits behind the requests' pool.
    health_engine = make_engine(settings.DATABASE_URL, pool_size=1, max_overflow=1, pool_timeout=2)
    try:
        inbox.start()
        app.state.inbox = inbox
        app.state.health_engine = health_engine
        app.state.health = HealthMonitor(health_engine, messenger)
        app.state.health.latest()  # the first check starts now
        _start_jobs(app, settings, session_factory, messenger)
    except Exception:
        inbox.stop()
        messenger.stop()
        health_engine.dispose()
        engine.dispose()
        raise
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


def _start_jobs(
    app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    messenger: MessagingRuntime,
) -> None:
    """The job queue, the bulk jobs on it, and (embedded default) the worker of this process."""
    queue = SqlJobQueue(session_factory, lease_seconds=settings.JOB_LEASE_SECONDS)
    worker = Worker(
        queue, concurrency=settings.JOB_CONCURRENCY, poll_seconds=settings.JOB_POLL_SECONDS
    )
    bulk = BulkJobs(
        messenger, session_factory, queue, region=settings.DEFAULT_REGION, wake=worker.wake
    )
    worker.register(BULK_SEND, bulk.run, abandon=bulk.abandon)
    reconciler = SendReconciler(messenger, session_factory, queue, wake=worker.wake)
    worker.register(RECONCILE_SEND, reconciler.run, abandon=reconciler.abandon)
    messenger.reconciler = reconciler
    app.state.job_queue = queue
    app.state.bulk = bulk
    app.state.reconciler = reconciler
    app.state.worker = worker
    # Single sends whose answer was never recorded: sent or not, Twilio's message log
    # tells. Only rows older than any request could take, as another process may share
    # the database.
    lost = reconciler.adopt_lost_sends(older_than=timedelta(minutes=5))
    if lost:
        logger.warning("%d message(s) left pending by a restart are being reconciled", lost)
    bulk.adopt_unqueued()
    if settings.RUN_WORKER:
        worker.start()
        logger.info("job worker %s started", worker.identity)


def _shutdown(app: FastAPI) -> None:
    worker: Worker | None = getattr(app.state, "worker", None)
    if worker is not None:
        worker.stop()
    inbox: Inbox | None = getattr(app.state, "inbox", None)
    if inbox is not None:
        inbox.stop()
    messenger: MessagingRuntime | None = getattr(app.state, "messenger", None)
    if messenger is not None:
        messenger.stop()
    for name in ("health_engine", "engine"):
        engine = getattr(app.state, name, None)
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
        # Sized together (docs/service.md, "Capacity"): an admitted request always finds a
        # thread, and a thread always finds a connection.
        to_thread.current_default_thread_limiter().total_tokens = resolved.thread_limit
        app.state.health_threads = CapacityLimiter(2)
        await run_in_threadpool(_startup, app, resolved)
        app.state.gates = {
            "api": Gate(
                resolved.MAX_CONCURRENT_REQUESTS,
                resolved.MAX_QUEUED_REQUESTS,
                resolved.REQUEST_QUEUE_SECONDS,
            ),
            "webhook": Gate(
                resolved.MAX_CONCURRENT_WEBHOOKS, resolved.MAX_CONCURRENT_WEBHOOKS * 4, 10.0
            ),
        }
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
    # Added last, so it runs first: a request is admitted (or shed) before anything else.
    app.add_middleware(LoadShedder, gates=lambda: getattr(app.state, "gates", None))
    routers = [m.router for m in (auth, users, sms, notifications, health, webhooks, web, docs)]
    for router in routers:
        app.include_router(router)
    document_errors(app, routers)
    return app
