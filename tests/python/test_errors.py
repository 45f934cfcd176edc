"""Every branch of the C++ -> Python exception translator (bind_errors.cpp)."""

from __future__ import annotations

import pickle

import pytest
from twiliocore import _core, errors


def test_api_error_becomes_twilio_rest_error_with_all_fields() -> None:
    with pytest.raises(errors.TwilioRestError) as info:
        _core._test.raise_api_error(
            400,
            21211,
            "The 'To' number is not valid.",
            "https://www.twilio.com/docs/errors/21211",
            '{"code": 21211, "message": "The \'To\' number is not valid.", "status": 400,'
            ' "details": {"field": "To"}}',
        )
    exc = info.value
    assert exc.status == 400
    assert exc.code == 21211
    assert exc.msg == exc.message == "The 'To' number is not valid."
    assert exc.more_info == "https://www.twilio.com/docs/errors/21211"
    assert exc.method == "POST"
    assert exc.uri == exc.url == "http://127.0.0.1:1/2010-04-01/Accounts.json"
    assert exc.details == {"field": "To"}
    assert str(exc) == "HTTP 400 error: The 'To' number is not valid."
    assert isinstance(exc, errors.TwilioRestException)
    assert isinstance(exc, errors.TwilioException)
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.status, copy.msg, copy.code, copy.message) == (400, exc.msg, 21211, exc.message)


def test_api_error_without_code_uses_status_and_no_details() -> None:
    with pytest.raises(errors.TwilioRestError) as info:
        _core._test.raise_api_error(502, 0, "HTTP 502 from x: Bad Gateway", "", "")
    assert info.value.code == 502
    assert info.value.details is None
    assert info.value.more_info is None
    # No Twilio message in the answer: msg is empty (the facade then says only what failed,
    # as twilio-python does) and message describes the answer.
    assert info.value.msg == ""
    assert info.value.message == "HTTP 502 from x: Bad Gateway"
    assert str(info.value) == "HTTP 502 error: HTTP 502 from x: Bad Gateway"


@pytest.mark.parametrize("stage", ["resolve", "connect", "tls", "send", "receive"])
def test_transport_error_carries_url_and_stage(stage: str) -> None:
    with pytest.raises(errors.TransportError) as info:
        _core._test.raise_transport_error(stage)
    exc = info.value
    assert type(exc) is errors.TransportError
    assert exc.stage == stage
    assert exc.url == "http://127.0.0.1:1/2010-04-01/Accounts.json"
    assert exc.never_sent == (stage in ("resolve", "connect", "tls"))


def test_timeout_during_connect_is_connect_timeout() -> None:
    with pytest.raises(errors.ConnectTimeout) as info:
        _core._test.raise_timeout("connect")
    assert info.value.stage == "connect"
    assert isinstance(info.value, TimeoutError)


def test_timeout_after_sending_is_timeout() -> None:
    with pytest.raises(errors.Timeout) as info:
        _core._test.raise_timeout("receive")
    assert type(info.value) is errors.Timeout
    assert not info.value.never_sent


def test_tls_error() -> None:
    with pytest.raises(errors.TLSError) as info:
        _core._test.raise_tls_error()
    assert info.value.stage == "tls"


def test_cancelled() -> None:
    with pytest.raises(errors.Cancelled):
        _core._test.raise_cancelled()


def test_invalid_phone_number_keeps_number_and_reason() -> None:
    with pytest.raises(errors.InvalidPhoneNumber) as info:
        _core._test.raise_invalid_phone_number("12", "too short")
    assert info.value.number == "12"
    assert info.value.reason == "too short"
    assert isinstance(info.value, ValueError)


def test_invalid_argument_is_value_error() -> None:
    with pytest.raises(ValueError, match="PageSize"):
        _core._test.raise_invalid_argument("PageSize: must be 1..1000")


def test_unknown_stage_is_value_error() -> None:
    with pytest.raises(ValueError, match="stage"):
        _core._test.raise_transport_error("nowhere")
