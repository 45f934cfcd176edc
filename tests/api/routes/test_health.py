"""GET /api/health."""

from __future__ import annotations


def test_health_in_mock_mode(service):
    with service.client() as client:
        body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["mode"] == "mock"
    assert body["database_reachable"] is True
    assert body["twilio_reachable"] is True
    assert body["version"]


def test_health_in_live_mode_with_bad_credentials(start_service, make_emulator):
    twilio = make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN="0" * 32,
        TWILIO_API_BASE_URL=twilio.url,
    )
    with svc.client() as client:
        body = client.get("/api/health").json()
    assert body["mode"] == "live"
    assert body["status"] == "degraded"
    assert body["twilio_reachable"] is False
    assert "20003" in body["twilio_error"]


def test_use_mock_wins_over_credentials(start_service, make_emulator):
    twilio = make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_API_BASE_URL=twilio.url,
        MESSAGING_USE_MOCK=True,
    )
    with svc.client() as client:
        assert client.get("/api/health").json()["mode"] == "mock"
    assert svc.emulator is not None
    assert svc.emulator.url != twilio.url


def test_openapi_has_the_sms_tag_and_stable_ids(service):
    with service.client() as client:
        spec = client.get("/api/openapi.json").json()
        assert client.get("/api/docs").status_code == 200
    send = spec["paths"]["/api/sms/send"]["post"]
    assert send["tags"] == ["SMS & WhatsApp"]
    assert send["operationId"] == "sms_whatsapp-send_sms"
    for path in (
        "/api/sms/settings",
        "/api/sms/test-connection",
        "/api/sms/whatsapp/send",
        "/api/sms/send-bulk",
        "/api/sms/whatsapp/send-bulk",
        "/api/sms/bulk/{job_id}",
        "/api/sms/message-status/{message_sid}",
        "/api/sms/messages",
        "/api/sms/preferences",
    ):
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["SMS & WhatsApp"], path
