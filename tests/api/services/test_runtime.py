"""The runtime (services/config.py): configuration in force, mock mode, client, senders."""

from __future__ import annotations

import pytest
from twiliocore import Client, RequestValidator
from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.security import KeyRing
from twiliocore_api.services import config as runtime_config
from twiliocore_api.services.config import MessagingRuntime, MessengerUnavailable


def test_nothing_is_in_force_before_start(session_factory):
    runtime = MessagingRuntime(Settings(_env_file=None), session_factory, KeyRing("k" * 32))
    with pytest.raises(MessengerUnavailable):
        runtime.config  # noqa: B018
    with pytest.raises(MessengerUnavailable):
        runtime.current()
    assert runtime.emulator is None


def test_mock_mode_runs_the_emulator_until_stop(make_runtime):
    runtime = make_runtime()
    config = runtime.config
    assert (config.mode, config.source, config.configured) == ("mock", "emulator", False)
    emulator = runtime.emulator
    assert emulator is not None and config.base_url == emulator.url
    assert isinstance(runtime.client(), Client)
    assert runtime.current() == (config, runtime.client())
    params = {"MessageSid": "SM" + "0" * 32}
    url = "http://127.0.0.1:8000/webhook/twilio/status"
    signature = RequestValidator(emulator.auth_token).compute_signature(url, params)
    assert runtime.validator().validate(url, params, signature)
    assert runtime_config.running_runtime() is runtime
    runtime.stop()
    assert runtime.emulator is None
    assert runtime_config.running_runtime() is not runtime
    with pytest.raises(MessengerUnavailable):
        runtime.current()


def test_saved_settings_are_in_force_at_once_with_a_new_client(make_runtime, make_emulator, db):
    twilio = make_emulator()
    runtime = make_runtime(TWILIO_API_BASE_URL=twilio.url)
    before = runtime.client()
    config = runtime.save_settings(
        db,
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        phone_number="+15005550006",
        whatsapp_number=None,
        user_id=None,
    )
    assert (config.mode, config.source, config.phone_number) == ("live", "database", "+15005550006")
    assert runtime.config is config
    assert runtime.client() is not before
    assert runtime.client().account_sid == twilio.account_sid
    stored = crud.get_sms_settings(db)
    assert twilio.auth_token not in stored.auth_token_encrypted
    assert runtime.test_connection().success is True


def test_missing_senders_are_named(make_runtime, make_emulator):
    twilio = make_emulator()
    runtime = make_runtime(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_API_BASE_URL=twilio.url,
    )
    assert "TWILIO_PHONE_NUMBER" in runtime.missing_sender("sms")
    assert runtime.missing_sender("sms", "+15005550006") is None
    assert "TWILIO_WHATSAPP_NUMBER" in runtime.missing_sender("whatsapp")


def test_connection_checks(make_runtime, make_emulator, unused_port):
    assert make_runtime(MESSAGING_USE_MOCK=True).test_connection().success is True
    twilio = make_emulator()
    wrong = make_runtime(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN="f" * 32,
        TWILIO_API_BASE_URL=twilio.url,
    ).test_connection()
    assert (wrong.success, wrong.error_code, wrong.mode) == (False, 20003, "live")
    assert "authentication" in wrong.error
    unreachable = make_runtime(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="f" * 32,
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{unused_port}",
    )
    check = unreachable.test_connection()
    assert check.success is False and check.error.startswith("cannot reach Twilio")
    assert unreachable.twilio_reachable() == (False, check.error)


def test_normalize_takes_the_channel_prefix_off(make_runtime):
    runtime = make_runtime(MESSAGING_USE_MOCK=True)
    assert runtime.normalize("whatsapp:(415) 555-2671") == "+14155552671"
    assert runtime_config.strip_channel("whatsapp:+1") == "+1"
    assert runtime_config.strip_channel(None) is None
