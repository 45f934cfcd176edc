"""Webhooks: signatures (403), status callbacks never backwards, idempotency, inbound, opt-out."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from twiliocore import RequestValidator
from twiliocore_api import crud


def _post_signed(service, path, params, *, token=None, idempotency=None, url=None, headers=None):
    auth_token = token or service.emulator.auth_token
    target = url or service.url + path
    signature = RequestValidator(auth_token).compute_signature(target, params)
    sent_headers = {"X-Twilio-Signature": signature, **(headers or {})}
    if idempotency:
        sent_headers["I-Twilio-Idempotency-Token"] = idempotency
    with service.client() as client:
        return client.post(path, data=params, headers=sent_headers)


def _message(service, sid):
    with service.admin() as client:
        return client.get(f"/api/sms/message-status/{sid}").json()


def _send(service, to="+14155552671", body="hello"):
    with service.admin() as client:
        answer = client.post("/api/sms/send", json={"to_number": to, "message": body})
    assert answer.status_code == 201, answer.text
    return answer.json()["message_sid"]


def _callback(sid, status, **extra):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "From": "+15005550006",
        "To": "+14155552671",
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.mark.parametrize("path", ["/webhook/twilio/status", "/webhook/twilio/incoming"])
def test_missing_signature_is_403(service, path):
    with service.client() as client:
        answer = client.post(path, data={"MessageSid": "SM" + "0" * 32, "MessageStatus": "sent"})
    assert answer.status_code == 403


@pytest.mark.parametrize("path", ["/webhook/twilio/status", "/webhook/twilio/incoming"])
def test_bad_signature_is_403(service, path):
    params = _callback("SM" + "1" * 32, "delivered")
    with service.client() as client:
        forged = client.post(path, data=params, headers={"X-Twilio-Signature": "bm90IGl0"})
    assert forged.status_code == 403
    # Signed with another token, or over another URL, or with the params changed.
    assert _post_signed(service, path, params, token="f" * 32).status_code == 403
    other_url = service.url.replace("127.0.0.1", "evil.example.com") + path
    assert _post_signed(service, path, params, url=other_url).status_code == 403
    signature = RequestValidator(service.emulator.auth_token).compute_signature(
        service.url + path, params
    )
    with service.client() as client:
        tampered = client.post(
            path,
            data={**params, "MessageStatus": "failed"},
            headers={"X-Twilio-Signature": signature},
        )
    assert tampered.status_code == 403


def test_host_header_is_not_trusted(service):
    params = _callback("SM" + "2" * 32, "sent")
    forged_url = "https://attacker.example.com/webhook/twilio/status"
    answer = _post_signed(
        service,
        "/webhook/twilio/status",
        params,
        url=forged_url,
        headers={
            "Host": "attacker.example.com",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "attacker.example.com",
        },
    )
    assert answer.status_code == 403


def test_late_callbacks_never_move_a_message_back(service, wait_for):
    sid = _send(service)
    wait_for(lambda: _message(service, sid)["status"] == "delivered", what="delivered")
    for late in ("sent", "sending", "queued", "undelivered", "failed"):
        answer = _post_signed(
            service, "/webhook/twilio/status", _callback(sid, late, ErrorCode="30003")
        )
        assert answer.status_code == 204
    record = _message(service, sid)
    assert record["status"] == "delivered"
    assert record["error_code"] is None


def test_failed_is_final(service, wait_for):
    sid = _send(service, to="+15005550012")
    wait_for(lambda: _message(service, sid)["status"] == "failed", what="failed")
    _post_signed(service, "/webhook/twilio/status", _callback(sid, "delivered"))
    record = _message(service, sid)
    assert record["status"] == "failed"
    assert record["error_code"] == 30008


def test_repeated_idempotency_token_is_acknowledged_not_applied(service):
    # A record whose status only these callbacks move (the emulator never heard of it).
    sid = "SM" + uuid.uuid4().hex
    with service.messenger.session_factory() as db:
        crud.create_message(
            db,
            message_sid=sid,
            type="sms",
            direction="outbound-api",
            to_number="+14155552671",
            from_number="+15005550006",
            body="manual",
            status="queued",
        )
    token = "idem-" + uuid.uuid4().hex
    first = _post_signed(
        service, "/webhook/twilio/status", _callback(sid, "sent"), idempotency=token
    )
    assert first.status_code == 204
    assert _message(service, sid)["status"] == "sent"
    again = _post_signed(
        service, "/webhook/twilio/status", _callback(sid, "delivered"), idempotency=token
    )
    assert again.status_code == 204
    assert _message(service, sid)["status"] == "sent"
    fresh = _post_signed(
        service, "/webhook/twilio/status", _callback(sid, "delivered"), idempotency=token + "x"
    )
    assert fresh.status_code == 204
    assert _message(service, sid)["status"] == "delivered"


def _inbound(service, sender, body, to="+15005550006"):
    answer = httpx.post(
        f"{service.emulator.url}/_emulator/inbound",
        data={"From": sender, "To": to, "Body": body},
        timeout=30,
        trust_env=False,
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _inbound_rows(service, sender):
    with service.admin() as client:
        rows = client.get("/api/sms/messages", params={"limit": 500}).json()["data"]
    return [r for r in rows if r["direction"] == "inbound" and r["from"] == sender]


def test_incoming_message_is_stored_as_inbound(service, wait_for):
    sender = "+14155550111"
    _inbound(service, sender, "Hello there")
    rows = wait_for(lambda: _inbound_rows(service, sender), what="the inbound message")
    assert rows[0]["body"] == "Hello there"
    assert rows[0]["to"] == "+15005550006"
    assert rows[0]["status"] == "received"
    assert rows[0]["type"] == "sms"
    assert rows[0]["message_sid"].startswith(("SM", "MM"))


def test_incoming_whatsapp_message(service, wait_for):
    _inbound(service, "whatsapp:+14155550112", "Hi", to="whatsapp:+14155238886")
    rows = wait_for(lambda: _inbound_rows(service, "+14155550112"), what="the inbound message")
    assert rows[0]["type"] == "whatsapp"
    assert rows[0]["to"] == "+14155238886"


STOP_WORDS = [
    "STOP",
    " stop ",
    "Unsubscribe",
    "STOPALL",
    "cancel",
    "END",
    "quit",
    "REVOKE",
    "optout",
]


@pytest.mark.parametrize("stop", STOP_WORDS)
def test_stop_opts_out_and_start_opts_back_in(service, wait_for, stop):
    # One number per keyword, unused by other tests: each case starts opted in.
    number = f"+1415555{7100 + STOP_WORDS.index(stop):04d}"
    _inbound(service, number, stop)
    wait_for(lambda: _inbound_rows(service, number), what="the STOP message")
    with service.admin() as client:
        refused = client.post("/api/sms/send", json={"to_number": number, "message": "promo"})
        assert refused.status_code == 409
        body = refused.json()
        assert body["success"] is False
        assert body["status"] == "refused"
        assert body["error_code"] == 21610
        assert "opted out" in body["error"]
        history = client.get("/api/sms/messages", params={"to": number, "status": "refused"})
        assert history.json()["count"] == 1
        # Nothing reached the emulator.
        assert not [m for m in service.emulator.messages() if m["to"] == number]
    _inbound(service, number, " start\n")
    wait_for(lambda: len(_inbound_rows(service, number)) == 2, what="the START message")
    with service.admin() as client:
        again = client.post("/api/sms/send", json={"to_number": number, "message": "welcome back"})
    assert again.status_code == 201


@pytest.mark.parametrize("word", ["YES", "UNSTOP"])
def test_other_opt_in_keywords(service, wait_for, word):
    number = f"+1415556{len(word):04d}"
    _inbound(service, number, "STOP")
    wait_for(lambda: _inbound_rows(service, number), what="STOP")
    _inbound(service, number, word.lower())
    wait_for(lambda: len(_inbound_rows(service, number)) == 2, what=word)
    with service.admin() as client:
        assert (
            client.post("/api/sms/send", json={"to_number": number, "message": "x"}).status_code
            == 201
        )


def test_stop_inside_a_sentence_is_not_an_opt_out(service, wait_for):
    number = "+14155550199"
    _inbound(service, number, "please don't stop")
    wait_for(lambda: _inbound_rows(service, number), what="the message")
    with service.admin() as client:
        assert (
            client.post("/api/sms/send", json={"to_number": number, "message": "x"}).status_code
            == 201
        )


def test_proxy_headers_only_when_trusted(start_service):
    public = "https://sms.example.com"
    params = _callback("SM" + "3" * 32, "sent")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.com"}
    trusting = start_service(TRUST_PROXY_HEADERS=True)
    answer = _post_signed(
        trusting,
        "/webhook/twilio/status",
        params,
        url=public + "/webhook/twilio/status",
        headers=headers,
    )
    assert answer.status_code == 204
    plain = start_service()
    answer = _post_signed(
        plain,
        "/webhook/twilio/status",
        params,
        url=public + "/webhook/twilio/status",
        headers=headers,
    )
    assert answer.status_code == 403


def test_signature_uses_webhook_base_url(start_service, unused_port):
    public = "https://hooks.example.org/prefix"
    svc = start_service(WEBHOOK_BASE_URL=public)
    params = _callback("SM" + "4" * 32, "sent")
    ok = _post_signed(svc, "/webhook/twilio/status", params, url=public + "/webhook/twilio/status")
    assert ok.status_code == 204
    local = _post_signed(svc, "/webhook/twilio/status", params)
    assert local.status_code == 403


def test_file_upload_or_garbage_is_403_not_500(service):
    with service.client() as client:
        upload = client.post(
            "/webhook/twilio/status",
            files={"MessageSid": ("a.txt", b"x")},
            headers={"X-Twilio-Signature": "abc"},
        )
        garbage = client.post(
            "/webhook/twilio/incoming",
            content=b"\xff\xfe%%%=&&",
            headers={
                "X-Twilio-Signature": "abc",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert upload.status_code == 403
    assert garbage.status_code == 403


def test_signed_numbers_out_of_range_are_ignored_not_a_500(service, wait_for):
    sid = _send(service, to="+14155550290")
    wait_for(lambda: _message(service, sid)["status"] == "delivered", what="delivery")
    sid = _send(service, to="+14155550291")
    failed = _post_signed(
        service, "/webhook/twilio/status", _callback(sid, "failed", ErrorCode="9" * 30)
    )
    assert failed.status_code == 204, failed.text
    inbound = _post_signed(
        service,
        "/webhook/twilio/incoming",
        {
            "MessageSid": "SM" + "5" * 32,
            "From": "+14155550292",
            "To": "+15005550006",
            "Body": "hi",
            "NumSegments": "9" * 30,
        },
    )
    assert inbound.status_code == 200, inbound.text


def test_emulator_docs_inbound_example_reaches_the_service(start_service, make_emulator):
    # docs/emulator.md's curl example, as written, with the ports of this run: the `+` of
    # the numbers arrives, and the route it names is the service's incoming-message webhook.
    doc = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"
    block = doc.read_text(encoding="utf-8").split("<!-- inbound-example -->")[1]
    command = block.split("```console\n")[1].split("```")[0].removeprefix("$ ")
    twilio = make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
    )
    command = command.replace("http://127.0.0.1:8081", twilio.url)
    command = command.replace("http://127.0.0.1:8000", svc.url)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["response"]["status"] == 200, answer
    assert answer["twiml"]["error"] is None, answer
    with svc.admin() as client:
        rows = client.get("/api/sms/messages", params={"direction": "inbound"}).json()["data"]
    assert [(r["from"], r["to"], r["body"]) for r in rows] == [
        ("+447400123456", "+15005550006", "STOP")
    ]
