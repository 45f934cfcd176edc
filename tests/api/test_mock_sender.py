"""Mock mode's SMS sender: MOCK_SENDER_TYPE sets its kind, hence the emulator's rate; the log
says which."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from twiliocore_api.core.config import Settings


def test_a_short_code_sender_in_mock_mode(start_service, caplog) -> None:
    caplog.set_level("INFO", logger="twiliocore_api")
    svc = start_service(
        MESSAGING_USE_MOCK=True, MOCK_SENDER_TYPE="short_code", MOCK_EMULATOR_MPS=None
    )
    with svc.admin() as admin:
        answer = admin.post("/api/sms/send", json={"to_number": "+14155552671", "message": "sc"})
    assert answer.status_code == 201, answer.text
    (sent,) = [m for m in svc.emulator.messages() if m["body"] == "sc"]
    assert sent["from"] == "55506"
    assert svc.emulator.runtime.queues.mps is None  # Twilio's own rate for the sender kind
    (line,) = [r.getMessage() for r in caplog.records if "SMS goes from" in r.getMessage()]
    assert "55506, a short code (MOCK_SENDER_TYPE=short_code)" in line
    assert "paces at 100 message segment(s) per second" in line
    assert "MOCK_SENDER_TYPE=toll_free" in line


def test_the_default_mock_sender_is_a_long_code_and_the_log_says_how_to_change_it(
    start_service, caplog
) -> None:
    caplog.set_level("INFO", logger="twiliocore_api")
    svc = start_service(MESSAGING_USE_MOCK=True, MOCK_EMULATOR_MPS=None)
    assert svc.messenger.config.phone_number == "+15005550006"
    (line,) = [r.getMessage() for r in caplog.records if "SMS goes from" in r.getMessage()]
    assert "+15005550006, a long code (MOCK_SENDER_TYPE=long_code)" in line
    assert "paces at 1 message segment(s) per second" in line
    assert "33 min for 2,000" in line
    assert "short_code (100/s)" in line


def test_a_bad_mock_sender_type_is_a_settings_error_naming_it() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, MOCK_SENDER_TYPE="medium_code")  # type: ignore[call-arg]
    assert "MOCK_SENDER_TYPE" in str(raised.value)
    assert "'long_code', 'toll_free' or 'short_code'" in str(raised.value)
    assert Settings(_env_file=None, MOCK_SENDER_TYPE=" Toll-Free ").MOCK_SENDER_TYPE == "toll_free"  # type: ignore[call-arg]
