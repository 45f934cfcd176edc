"""Settings: defaults, secrets guard, the generated SECRET_KEY file."""

from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError
from twiliocore_api.core.config import Settings, resolve_secret_key


def test_defaults(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings(_env_file=None)
    assert settings.DATABASE_URL == "sqlite:///./data/twiliocore.db"
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.MESSAGING_USE_MOCK is False
    assert settings.TRUST_PROXY_HEADERS is False


def test_secrets_are_hidden_in_repr(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok-abcdef-123456")
    monkeypatch.setenv("SECRET_KEY", "secret-abcdef-123456")
    settings = Settings(_env_file=None)
    assert "tok-abcdef-123456" not in repr(settings)
    assert "secret-abcdef-123456" not in repr(settings)
    assert settings.env_credentials_configured is False  # no SID


def test_short_secret_key_is_refused():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, SECRET_KEY="short")


def test_public_url():
    assert Settings(_env_file=None, SERVER_HOST="0.0.0.0", SERVER_PORT=9000).public_base_url == (
        "http://127.0.0.1:9000"
    )
    assert Settings(_env_file=None, WEBHOOK_BASE_URL="https://x.example/").public_base_url == (
        "https://x.example"
    )


def test_generated_secret_key_is_kept_beside_the_database(tmp_path, caplog):
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path}/db/app.db")
    key = resolve_secret_key(settings)
    path = tmp_path / "db" / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "generated a new one" in caplog.text
    assert key not in caplog.text
    assert resolve_secret_key(settings) == key
    explicit = Settings(_env_file=None, SECRET_KEY="x" * 20, DATABASE_URL=settings.DATABASE_URL)
    assert resolve_secret_key(explicit) == "x" * 20
