"""Status callbacks: Twilio's parameters, signatures, idempotency tokens, retries."""

from __future__ import annotations

import time

import pytest
from twiliocore import RequestValidator

from .test_messages import wait_status


def statuses(requests):
    return [r.form["MessageStatus"] for r in requests]


def assert_signed(emulator, request):
    validator = RequestValidator(emulator.auth_token)
    signature = request.headers["x-twilio-signature"]
    assert validator.validate(request.url, request.params, signature), request.url
    assert not RequestValidator("wrong-token").validate(request.url, request.params, signature)


def test_each_transition_after_the_first_posts_a_signed_callback(api, webhook_receiver):
    callback = webhook_receiver.url + "/status?tenant=a"
    sid = api.send(StatusCallback=callback).json()["sid"]
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 3)
    assert statuses(requests) == ["sending", "sent", "delivered"]  # none for "queued"
    for request in requests:
        assert request.method == "POST"
        assert request.path == "/status?tenant=a"
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert_signed(api.emulator, request)
        form = request.form
        assert form["MessageSid"] == form["SmsSid"] == sid
        assert form["SmsStatus"] == form["MessageStatus"]
        assert form["AccountSid"] == api.emulator.account_sid
        assert form["From"] == "+15005550006" and form["To"] == "+14155552671"
        assert form["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in form
    assert "RawDlrDoneDate" in requests[-1].form
    tokens = [r.headers["i-twilio-idempotency-token"] for r in requests]
    assert len(set(tokens)) == 3  # one per event


@pytest.mark.parametrize(
    ("to", "final", "code"),
    [("+15005550011", "undelivered", "30005"), ("+15005550012", "failed", "30008")],
)
def test_failure_callbacks_carry_error_code(api, webhook_receiver, to, final, code):
    api.send(To=to, StatusCallback=webhook_receiver.url + "/cb")
    requests = webhook_receiver.wait_for(lambda r: any(x.form["MessageStatus"] == final for x in r))
    last = requests[-1]
    assert last.form["MessageStatus"] == final
    assert last.form["ErrorCode"] == code
    assert_signed(api.emulator, last)


def test_messaging_service_callbacks_include_the_service_and_queued(api, webhook_receiver):
    service = "MG" + "c" * 32
    api.http.post(
        api.messages,
        data={
            "To": "+14155552671",
            "MessagingServiceSid": service,
            "Body": "x",
            "StatusCallback": webhook_receiver.url + "/cb",
        },
    )
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 4)
    assert statuses(requests) == ["queued", "sending", "sent", "delivered"]
    assert all(r.form["MessagingServiceSid"] == service for r in requests)
    for request in requests:
        assert_signed(api.emulator, request)


def test_whatsapp_callbacks_include_read_and_channel_fields(api, webhook_receiver):
    api.send(
        From="whatsapp:+14155238886",
        To="whatsapp:+14155552671",
        StatusCallback=webhook_receiver.url + "/wa",
    )
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 4)
    assert statuses(requests) == ["sending", "sent", "delivered", "read"]
    assert requests[-1].form["ChannelPrefix"] == "whatsapp"
    assert requests[-1].form["To"] == "whatsapp:+14155552671"
    for request in requests:
        assert_signed(api.emulator, request)


def test_failed_deliveries_are_retried_with_the_same_idempotency_token(
    api, webhook_receiver, emulator
):
    failures = [500, 503]  # the first two attempts of the "sending" event fail

    def answer(request):
        if request.form["MessageStatus"] == "sending" and failures:
            return failures.pop(0)
        return 200

    webhook_receiver.answer = answer
    sid = api.send(StatusCallback=webhook_receiver.url + "/flaky").json()["sid"]
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 5)  # 3 attempts + 2 events
    first_event = [r for r in requests if r.form["MessageStatus"] == "sending"]
    assert len(first_event) == 3
    assert len({r.headers["i-twilio-idempotency-token"] for r in first_event}) == 1
    assert len({r.headers["x-twilio-signature"] for r in first_event}) == 1
    for request in requests:
        assert_signed(api.emulator, request)
    deadline = time.monotonic() + 10
    while True:  # the log entry is written once the receiver's answer is read
        log = [w for w in emulator.webhooks() if w["message_sid"] == sid]
        sending = next(w for w in log if w["params"]["MessageStatus"] == "sending")
        if len(sending["attempts"]) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [a["status"] for a in sending["attempts"]] == [500, 503, 200]
    assert sending["delivered"] is True


def test_unreachable_callback_url_never_stops_the_emulator(make_emulator, api_for):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]  # closed again: nothing listens there
    emulator = make_emulator(callback_attempts=2, callback_retry_delay=0.01)
    api = api_for(emulator)
    sid = api.send(StatusCallback=f"http://127.0.0.1:{dead_port}/cb").json()["sid"]
    assert wait_status(api, sid, {"delivered"})["status"] == "delivered"
    deadline = time.monotonic() + 10
    while True:
        log = emulator.webhooks()
        if len(log) == 3 and all(len(w["attempts"]) == 2 for w in log):
            break
        assert time.monotonic() < deadline, log
        time.sleep(0.02)
    assert all(not w["delivered"] for w in log)
    assert all(a["error"] for w in log for a in w["attempts"])
    assert api.send().status_code == 201  # still serving


def test_a_delivery_that_cannot_start_is_a_failed_attempt(monkeypatch):
    """At interpreter exit, resolving a host name raises RuntimeError (no new threads):
    the attempt fails and is retried like any other, it does not kill the task."""
    import asyncio

    from twiliocore.emulator import webhooks
    from twiliocore.emulator.state import Store

    async def refuse(*args, **kwargs):
        raise RuntimeError("can't register atexit after shutdown")

    monkeypatch.setattr(webhooks, "http_request", refuse)
    sender = webhooks.WebhookSender(Store([]), "token", attempts=2, retry_delay=0, timeout=1)
    record, answer = asyncio.run(sender.deliver("status", "http://localhost:9/cb", [("A", "1")]))
    assert answer is None and not record.delivered
    assert [a["error"] for a in record.attempts] == [
        "RuntimeError: can't register atexit after shutdown"
    ] * 2


def test_credentials_in_the_callback_url_are_sent_as_basic_auth_and_not_logged(
    api, webhook_receiver, caplog
):
    import base64

    webhook_receiver.default_status = 500  # failures are logged
    url = webhook_receiver.url.replace("http://", "http://hook:s3cret@") + "/cb"
    api.send(StatusCallback=url)
    requests = webhook_receiver.wait_for(lambda r: len(r) >= 2)
    expected = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    assert requests[0].headers["authorization"] == expected
    assert RequestValidator(api.emulator.auth_token).validate(
        url, requests[0].params, requests[0].headers["x-twilio-signature"]
    )
    deadline = time.monotonic() + 10
    while "webhook to" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "webhook to" in caplog.text
    assert "s3cret" not in caplog.text


@pytest.fixture
def raw_receiver():
    """A receiver that ignores ``Connection: close`` and answers chunked, keeping the socket."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    stop = threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(rest) < length:
                rest += conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\n<Resp\r\n6\r\nonse/>\r\n0\r\n\r\n"
            )
            held.append(conn)  # never closed until teardown

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_answers_are_read_by_their_framing_not_until_close(make_emulator, raw_receiver):
    import httpx

    emulator = make_emulator(callback_timeout=3.0)
    result = httpx.post(
        emulator.url + "/_emulator/inbound",
        data={"From": "+447400123456", "To": "+15005550006", "Body": "x", "Url": raw_receiver},
        timeout=20,
    ).json()
    assert [a["status"] for a in result["webhook"]["attempts"]] == [200]
    assert result["response"]["body"] == "<Response/>"
