"""The prestart step: migrations, the first admin and SECRET_KEY, once, however many start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.db import (
    SchemaOutdated,
    check_schema,
    make_engine,
    make_session_factory,
    run_migrations,
)
from twiliocore_api.main import create_app
from twiliocore_api.models import User
from twiliocore_api.prestart import prestart


def _settings(url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": url,
        "SECRET_KEY": "prestart-secret-key-0123456789",
        "ADMIN_PASSWORD": "admin-password-123",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _users(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = [(u.email, u.role) for u in session.scalars(select(User)).all()]
    engine.dispose()
    return rows


def test_prestart_prepares_the_database_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    prestart(_settings(url))
    prestart(_settings(url))
    engine = make_engine(url)
    check_schema(engine)  # at the newest revision
    engine.dispose()
    assert _users(url) == [("admin@example.com", "admin")]


def test_the_app_refuses_a_database_prestart_has_not_prepared(tmp_path):
    app = create_app(_settings(f"sqlite:///{tmp_path / 'bare.db'}", MESSAGING_USE_MOCK=True))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(SchemaOutdated, match="prestart"):
        asyncio.run(start())


def test_an_existing_user_with_the_admin_email_is_not_a_crash(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    run_migrations(engine)
    with make_session_factory(engine)() as session:
        crud.create_user(session, email="admin@example.com", password="x" * 12, role="user")
    engine.dispose()
    prestart(_settings(url))
    assert "the first admin admin@example.com was not created" in caplog.text
    assert _users(url) == [("admin@example.com", "user")]


def test_processes_running_prestart_together_on_a_fresh_database(tmp_path):
    # No SECRET_KEY: each would generate one; the lock makes the first one the only one.
    url = f"sqlite:///{tmp_path / 'data' / 'fresh.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "ADMIN_"))}
    env.update(DATABASE_URL=url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "twiliocore_api.prestart"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], outputs
    assert sum("generated a new one" in out for out in outputs) == 1
    assert sum("created the first admin" in out for out in outputs) == 1
    assert _users(url) == [("admin@example.com", "admin")]


def test_prestart_in_parallel_on_postgres(postgres_url):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "twiliocore_api.prestart"],
            env={**os.environ, "DATABASE_URL": postgres_url, "SECRET_KEY": "k" * 32},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    engine = make_engine(postgres_url)
    check_schema(engine)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()


def test_admin_settings_ignored_once_an_admin_exists_are_reported(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'ignored.db'}"
    prestart(_settings(url))
    caplog.set_level("INFO", logger="twiliocore_api")
    prestart(_settings(url, ADMIN_PASSWORD="another-password-456"))
    (warning,) = [r for r in caplog.records if "ignored:" in r.getMessage()]
    assert warning.levelname == "WARNING"
    message = warning.getMessage()
    assert "ADMIN_PASSWORD is ignored: the first admin already exists" in message
    assert "twiliocore admin reset-password --email admin@example.com" in message
    assert "another-password-456" not in caplog.text
    assert "admin-password-123" not in caplog.text

    caplog.clear()
    prestart(_settings(url, ADMIN_EMAIL="boss@example.com"))
    assert "ADMIN_EMAIL and ADMIN_PASSWORD are ignored" in caplog.text
    assert "admin-password-123" not in caplog.text

    caplog.clear()
    quiet = Settings(_env_file=None, DATABASE_URL=url, SECRET_KEY="prestart-secret-key-0123456789")  # type: ignore[call-arg]
    prestart(quiet)
    assert "ignored:" not in caplog.text
