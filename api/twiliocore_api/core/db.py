"""Database engine, sessions and migrations (Alembic, applied by the prestart step).

SQLite is the default; any SQLAlchemy URL works (PostgreSQL with ``psycopg``). The code
uses only portable SQL through the ORM. :func:`startup_lock` serialises the prestart
step of processes starting together on one database.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from twiliocore_api.core.sqlite_writes import serialized_writes_factory

__all__ = [
    "MIGRATIONS_DIR",
    "SchemaOutdated",
    "check_schema",
    "make_engine",
    "make_session_factory",
    "run_migrations",
    "startup_lock",
]

logger = logging.getLogger("twiliocore_api")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_lock key of the prestart step (any constant; "twlc" in ASCII).
_PRESTART_LOCK_KEY = 0x74776C63


class SchemaOutdated(RuntimeError):
    """Raised at start-up when the database is not at the newest migration."""


def make_engine(
    database_url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int = 8,
    pool_timeout: float = 30.0,
    sqlite_synchronous: str = "FULL",
) -> Engine:
    """Create the engine; for SQLite, create the file's directory and turn on WAL.

    Args:
        database_url: any SQLAlchemy URL.
        pool_size: connections kept open (a ``QueuePool``, SQLite files included);
            SQLAlchemy's default (5) when ``None``.
        max_overflow: connections opened beyond ``pool_size`` for a burst.
        pool_timeout: seconds to wait for a connection before ``sqlalchemy.exc.TimeoutError``.
        sqlite_synchronous: SQLite's ``PRAGMA synchronous``: ``FULL`` (a commit survives a
            power loss) or ``NORMAL`` (in WAL mode: survives a crash of the process, not of
            the machine; commits cost no ``fsync``).
    """
    if sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ValueError("sqlite_synchronous: must be 'FULL' or 'NORMAL'")
    url = make_url(database_url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if pool_size is not None and not in_memory:  # in-memory SQLite has one connection
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
    if url.get_backend_name() == "sqlite":
        if url.database not in (None, "", ":memory:"):
            Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        # Requests run in a thread pool and bulk jobs in worker threads. A writer waits up
        # to 30 s for SQLite's one write lock: write transactions are short (the inbox
        # batches callbacks, bulk jobs record a chunk at a time). Writers of this process
        # queue on a lock rather than SQLite's sleeping busy handler.
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": 30,
            "factory": serialized_writes_factory(),
        }
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (responses read them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def run_migrations(engine: Engine) -> None:
    """Upgrade the database to the newest revision, on ``engine``'s connection."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    logger.info("database ready (%s)", engine.url.render_as_string(hide_password=True))


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutdated` unless the database is at the newest migration."""
    script = ScriptDirectory.from_config(
        alembic_config(engine.url.render_as_string(hide_password=False))
    )
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != set(script.get_heads()):
        raise SchemaOutdated(
            f"the database ({engine.url.render_as_string(hide_password=True)}) is not at the "
            "newest schema: run the prestart step first (`python -m twiliocore_api.prestart`; "
            "`twiliocore serve` runs it)"
        )


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold a lock that one process at a time takes to prepare the database.

    SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the file. PostgreSQL: a
    session advisory lock. Other databases (and in-memory SQLite): no lock.
    """
    backend = engine.url.get_backend_name()
    database = engine.url.database
    if backend == "sqlite" and database not in (None, "", ":memory:"):
        import fcntl

        path = Path(str(database)).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    elif backend == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PRESTART_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _PRESTART_LOCK_KEY}
                )
                connection.commit()
    else:
        yield
