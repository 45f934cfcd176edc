"""The prestart step: what must happen once before the service starts.

Waits for the database, then, holding :func:`~twiliocore_api.core.db.startup_lock` (so
that processes starting together on one database take turns), resolves ``SECRET_KEY``
(generating it once), applies the Alembic migrations and creates the first admin.
``twiliocore serve`` runs it first; run it alone with ``python -m twiliocore_api.prestart``
(e.g. in a container's entry point before several service processes start).
"""

from __future__ import annotations

import logging
import secrets
import sys
import time

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from twiliocore_api import crud
from twiliocore_api.core.config import Settings, load_settings, resolve_secret_key
from twiliocore_api.core.db import make_engine, make_session_factory, run_migrations, startup_lock
from twiliocore_api.models import User

__all__ = ["ensure_first_admin", "main", "migrate", "prestart", "wait_for_database"]

logger = logging.getLogger("twiliocore_api")


def wait_for_database(engine: Engine, *, timeout: float = 60.0) -> None:
    """Wait until the database answers ``SELECT 1`` (it may still be starting).

    Raises:
        OperationalError: it did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            logger.info("waiting for the database")
            time.sleep(1.0)


def migrate(engine: Engine, *, timeout: float = 60.0) -> None:
    """Wait for the database and apply the Alembic migrations, holding the start-up lock.

    What ``twiliocore admin`` needs before it touches the users (no first admin, no
    ``SECRET_KEY``); :func:`prestart` does the same and more under one lock.

    Args:
        engine: the database.
        timeout: how long to wait for the database to answer, in seconds.
    """
    wait_for_database(engine, timeout=timeout)
    with startup_lock(engine):
        run_migrations(engine)


def ensure_first_admin(session_factory: sessionmaker[Session], settings: Settings) -> None:
    """Create the first admin when there is none (password printed once if generated).

    When an admin exists already, ``ADMIN_EMAIL`` and ``ADMIN_PASSWORD`` are not used: a
    warning says so (and how to change a password) when either is set. Another process
    creating the first admin at the same moment is not an error.
    """
    with session_factory() as session:
        if session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
            _warn_admin_settings_ignored(settings)
            return
        generated = settings.ADMIN_PASSWORD is None
        password = (
            secrets.token_urlsafe(12)
            if settings.ADMIN_PASSWORD is None
            else settings.ADMIN_PASSWORD.get_secret_value()
        )
        try:
            crud.create_user(session, email=settings.ADMIN_EMAIL, password=password, role="admin")
        except IntegrityError:
            session.rollback()
            logger.warning(
                "the first admin %s was not created: a user with that e-mail exists "
                "(created by another process starting at the same time?)",
                settings.ADMIN_EMAIL,
            )
            return
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


def _warn_admin_settings_ignored(settings: Settings) -> None:
    """Say that ``ADMIN_EMAIL``/``ADMIN_PASSWORD`` are ignored when set (never the password)."""
    ignored = [
        name
        for name, is_set in (
            ("ADMIN_EMAIL", "ADMIN_EMAIL" in settings.model_fields_set),
            ("ADMIN_PASSWORD", settings.ADMIN_PASSWORD is not None),
        )
        if is_set
    ]
    if not ignored:
        return
    logger.warning(
        "%s ignored: the first admin already exists, and these settings only create it on "
        "a database without an admin; to change a password run "
        "`twiliocore admin reset-password --email %s` (or `twiliocore admin create` for "
        "another admin)",
        " and ".join(ignored) + (" are" if len(ignored) > 1 else " is"),
        settings.ADMIN_EMAIL,
    )


def prestart(settings: Settings | None = None) -> None:
    """Prepare the database for the service: migrations, the first admin, ``SECRET_KEY``.

    Args:
        settings: the configuration; read from the environment when omitted.
    """
    settings = settings if settings is not None else load_settings()
    engine = make_engine(settings.DATABASE_URL)
    try:
        wait_for_database(engine)
        with startup_lock(engine):
            resolve_secret_key(settings)
            run_migrations(engine)
            ensure_first_admin(make_session_factory(engine), settings)
    finally:
        engine.dispose()


def main() -> int:
    """``python -m twiliocore_api.prestart``: run the prestart step; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)-8s %(name)s: %(message)s")
    prestart()
    return 0


if __name__ == "__main__":
    sys.exit(main())
