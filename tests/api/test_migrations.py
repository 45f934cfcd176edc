"""The Alembic migrations match the models and run both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from twiliocore_api.core.db import MIGRATIONS_DIR, alembic_config, make_engine, run_migrations
from twiliocore_api.models import Base


def test_migrations_are_packaged_with_the_service():
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("0001_*.py"))


def test_models_and_migrations_agree(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    run_migrations(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_works(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    run_migrations(engine)
    run_migrations(engine)
    assert {"users", "messages", "bulk_jobs", "sms_settings"} <= set(
        inspect(engine).get_table_names()
    )
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
