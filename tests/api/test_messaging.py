"""Messenger details that need no running service."""

from __future__ import annotations

from twiliocore_api.core.config import Settings
from twiliocore_api.messaging import EffectiveConfig, Messenger
from twiliocore_api.services.bulk import plan_bulk


def _config(base_url: str | None) -> EffectiveConfig:
    return EffectiveConfig(
        mode="live",
        source="environment",
        account_sid="AC" + "0" * 32,
        auth_token="hidden-token-value",
        phone_number="+15005550006",
        whatsapp_number=None,
        base_url=base_url,
    )


def _messenger(**settings: object) -> Messenger:
    return Messenger(Settings(_env_file=None, **settings), None, None)  # type: ignore[arg-type]


def test_no_status_callback_to_real_twilio_without_a_public_url():
    messenger = _messenger()
    messenger._config = _config(None)
    assert messenger.status_callback_url is None
    public = _messenger(WEBHOOK_BASE_URL="https://sms.example.com")
    public._config = _config(None)
    assert public.status_callback_url == "https://sms.example.com/webhook/twilio/status"
    local = _messenger(SERVER_PORT=9000)
    local._config = _config("http://127.0.0.1:8081")  # a local Twilio-compatible server
    assert local.status_callback_url == "http://127.0.0.1:9000/webhook/twilio/status"


def test_effective_config_hides_the_token():
    config = _config(None)
    assert "hidden-token-value" not in repr(config)
    assert config.configured


def test_bulk_plan_normalises_and_deduplicates():
    plan = plan_bulk(
        ["(415) 555-2671", "+14155552671", "whatsapp:+447400123456", "12"], region="US"
    )
    assert plan.recipients == ["+14155552671", "+447400123456"]
    assert plan.duplicates == 1
    assert plan.invalid == [{"number": "12", "reason": "too short"}]
    assert plan.total == 4
