"""SMSService / AsyncSMSService and ``twiliocore send`` against the Twilio emulator."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from twiliocore import AsyncSMSService, RequestValidator, SMSService, errors
from twiliocore.cli import main as cli_main

SENDER = "+15005550006"
WHATSAPP_SENDER = "+14155238886"


@pytest.fixture
def configured(fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fresh_emulator.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fresh_emulator.auth_token)
    monkeypatch.setenv("TWILIO_PHONE_NUMBER", SENDER)
    monkeypatch.setenv("TWILIO_WHATSAPP_NUMBER", WHATSAPP_SENDER)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fresh_emulator.url)
    return fresh_emulator


@pytest.fixture
def sms(configured: Any) -> Iterator[SMSService]:
    service = SMSService()
    yield service
    service.close()


def test_send_sms_normalises_and_reports(sms: SMSService, configured: Any) -> None:
    result = sms.send_sms("(415) 555-2671", "Your code is 123456")
    assert result["success"] is True
    assert result["message_sid"].startswith("SM")
    assert result["status"] == "queued"
    assert result["to"] == "+14155552671"
    assert result["from"] == SENDER
    assert result["type"] == "sms"
    assert result["num_segments"] == 1
    assert result["error"] is None
    assert result["error_code"] is None
    [record] = configured.messages()
    assert record["to"] == "+14155552671"


def test_send_sms_with_media_and_explicit_sender(sms: SMSService, configured: Any) -> None:
    result = sms.send_sms(
        "+1 415 555 2671", "pic", from_number="+1 500 555 0006", media_url="https://x.test/a.png"
    )
    assert result["success"] is True, result
    assert result["message_sid"].startswith("MM")
    assert configured.message(result["message_sid"]).media_urls == ["https://x.test/a.png"]


def test_invalid_number_fails_before_any_request(sms: SMSService, configured: Any) -> None:
    result = sms.send_sms("12", "hi")
    assert result["success"] is False
    assert "invalid phone number '12'" in result["error"]
    assert result["message_sid"] is None
    assert result["type"] == "sms"
    assert configured.messages() == []


def test_twilio_rejection_is_a_result_not_an_exception(sms: SMSService) -> None:
    result = sms.send_sms("+14155552671", "hi", from_number="+15005550001")
    assert result["success"] is False
    assert result["error_code"] == 21212
    assert "From" in result["error"]


def test_send_whatsapp_adds_prefixes(sms: SMSService, configured: Any) -> None:
    result = sms.send_whatsapp("415 555 2671", "hola")
    assert result["success"] is True, result
    assert result["type"] == "whatsapp"
    assert result["to"] == "whatsapp:+14155552671"
    assert result["from"] == "whatsapp:" + WHATSAPP_SENDER
    record = configured.message(result["message_sid"])
    assert record.to == "whatsapp:+14155552671"
    assert record.from_ == "whatsapp:" + WHATSAPP_SENDER
    again = sms.send_whatsapp("whatsapp:+14155552671", "again")
    assert again["to"] == "whatsapp:+14155552671"


def test_get_message_status(sms: SMSService) -> None:
    sid = sms.send_sms("+14155552671", "status?")["message_sid"]
    status = sms.get_message_status(sid)
    assert status["success"] is True
    assert status["message_sid"] == sid
    assert status["status"] in ("queued", "sending", "sent", "delivered")
    missing = sms.get_message_status("SM" + "0" * 32)
    assert missing["success"] is False
    assert missing["error_code"] == 20404


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        SMSService()
    assert "TWILIO_ACCOUNT_SID" in str(info.value)
    assert "TWILIO_AUTH_TOKEN" in str(info.value)
    with pytest.raises(errors.ConfigurationError, match="TWILIO_AUTH_TOKEN"):
        AsyncSMSService(account_sid="AC" + "1" * 32)


def test_missing_senders_name_the_variables(fresh_emulator: Any) -> None:
    with SMSService(
        fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=fresh_emulator.url
    ) as service:
        with pytest.raises(errors.ConfigurationError, match="TWILIO_PHONE_NUMBER"):
            service.send_sms("+14155552671", "hi")
        with pytest.raises(errors.ConfigurationError, match="TWILIO_WHATSAPP_NUMBER"):
            service.send_whatsapp("+14155552671", "hi")
        assert fresh_emulator.auth_token not in repr(service)


def test_transport_failure_is_a_result(configured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:1")
    with SMSService() as service:
        result = service.send_sms("+14155552671", "hi")
    assert result["success"] is False
    assert "connection refused" in result["error"]
    assert result["error_code"] is None


def test_async_twin(configured: Any) -> None:
    async def main() -> None:
        async with AsyncSMSService() as service:
            results = await asyncio.gather(
                *(service.send_sms("+14155552671", f"n{i}") for i in range(10)),
                service.send_whatsapp("+14155552671", "wa"),
                service.send_sms("12", "bad"),
            )
            assert [r["success"] for r in results] == [True] * 11 + [False]
            assert results[10]["type"] == "whatsapp"
            status = await service.get_message_status(results[0]["message_sid"])
            assert status["success"] is True

    asyncio.run(main())
    assert len(configured.messages()) == 11


def test_sync_and_async_signatures_match() -> None:
    for name in ("send_sms", "send_whatsapp", "get_message_status"):
        sync_sig = inspect.signature(getattr(SMSService, name))
        async_sig = inspect.signature(getattr(AsyncSMSService, name))
        assert list(sync_sig.parameters) == list(async_sig.parameters)
        assert inspect.iscoroutinefunction(getattr(AsyncSMSService, name))


def test_cli_send(configured: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["send", "--to", "(415) 555-2671", "--body", "from the CLI"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["success"] is True
    assert printed["to"] == "+14155552671"
    assert cli_main(["send", "--to", "+14155552671", "--body", "wa", "--whatsapp"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "whatsapp"
    assert cli_main(["send", "--to", "12", "--body", "x"]) == 1


def test_cli_without_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["send", "--to", "+14155552671", "--body", "x"]) == 2
    assert "TWILIO_ACCOUNT_SID" in capsys.readouterr().err


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_status_callbacks_arrive_signed(
    sms: SMSService, configured: Any, webhook_receiver: Any, channel: str
) -> None:
    callback = webhook_receiver.url + "/status"
    if channel == "sms":
        result = sms.send_sms("+14155552671", "tracked", status_callback=callback)
    else:
        result = sms.send_whatsapp("+14155552671", "tracked", status_callback=callback)
    assert result["success"] is True, result
    final = "read" if channel == "whatsapp" else "delivered"
    requests = webhook_receiver.wait_for(
        lambda got: any(dict(r.params).get("MessageStatus") == final for r in got)
    )
    validator = RequestValidator(configured.auth_token)
    statuses = []
    for request in requests:
        params = dict(request.params)
        assert params["MessageSid"] == result["message_sid"]
        assert validator.validate(request.url, params, request.headers["x-twilio-signature"])
        statuses.append(params["MessageStatus"])
    assert statuses[:3] == ["sending", "sent", "delivered"]


def test_async_status_callback(configured: Any, webhook_receiver: Any) -> None:
    async def main() -> dict[str, Any]:
        async with AsyncSMSService() as service:
            return await service.send_sms(
                "+14155552671", "tracked", status_callback=webhook_receiver.url + "/s"
            )

    result = asyncio.run(main())
    assert result["success"] is True
    webhook_receiver.wait_for(
        lambda got: any(dict(r.params).get("MessageStatus") == "delivered" for r in got)
    )
