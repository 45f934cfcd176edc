"""The TwiML a receiver answers to an incoming message is run: ``<Message>`` replies go out."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from twiliocore import RequestValidator
from twiliocore.emulator import OwnedNumberSpec
from twiliocore.twiml import Message, MessagingResponse, Redirect

from .spec import MESSAGE, component, validate

NUMBER = "+14155550100"
CUSTOMER = "+447400123456"


def inbound(emulator, **params):
    params.setdefault("From", CUSTOMER)
    params.setdefault("To", NUMBER)
    params.setdefault("Body", "Hello")
    response = httpx.post(emulator.url + "/_emulator/inbound", data=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def emulator(make_emulator, webhook_receiver):
    return make_emulator(
        phone_numbers=[OwnedNumberSpec(NUMBER, sms_url=webhook_receiver.url + "/sms")]
    )


def test_a_message_reply_is_sent_back_with_its_status_callbacks(
    emulator, webhook_receiver, api_for
):
    twiml = MessagingResponse()
    twiml.message("Thanks, we got it.", action=webhook_receiver.url + "/status")
    webhook_receiver.bodies["/sms"] = str(twiml).encode()
    result = inbound(emulator)
    assert result["twiml"]["error"] is None
    [reply] = result["twiml"]["replies"]
    validate(reply, component(MESSAGE))
    assert (reply["from"], reply["to"], reply["body"]) == (NUMBER, CUSTOMER, "Thanks, we got it.")
    assert (reply["direction"], reply["status"]) == ("outbound-reply", "queued")
    assert reply["sid"].startswith("SM")
    # The reply is a message of the account like any other, and it is delivered.
    api = api_for(emulator)
    requests = webhook_receiver.wait_for(
        lambda rs: any(r.form.get("MessageStatus") == "delivered" for r in rs)
    )
    assert api.fetch(reply["sid"])["status"] == "delivered"
    callbacks = [r for r in requests if r.path == "/status"]
    assert [r.form["MessageStatus"] for r in callbacks] == ["sending", "sent", "delivered"]
    validator = RequestValidator(emulator.auth_token)
    for callback in callbacks:
        assert callback.form["MessageSid"] == reply["sid"]
        assert validator.validate(
            callback.url, callback.params, callback.headers["x-twilio-signature"]
        )
    sent = [m for m in httpx.get(emulator.url + "/_emulator/messages").json()["messages"]]
    assert [m["sid"] for m in sent if m["direction"] == "outbound-reply"] == [reply["sid"]]


def test_body_media_and_attributes(emulator, webhook_receiver):
    twiml = MessagingResponse()
    message = twiml.message(to="+14155550199", from_=NUMBER)
    message.body("See attached")
    message.media("https://example.com/a.png")
    twiml.message("Second reply")
    webhook_receiver.bodies["/sms"] = str(twiml).encode()
    first, second = inbound(emulator)["twiml"]["replies"]
    assert first["sid"].startswith("MM")
    assert (first["to"], first["body"], first["num_media"]) == ("+14155550199", "See attached", "1")
    assert (second["to"], second["body"]) == (CUSTOMER, "Second reply")


def test_a_get_action_gets_its_callbacks_by_get_at_the_url_resolved_against_the_document(
    emulator, webhook_receiver
):
    twiml = MessagingResponse()
    twiml.message("Thanks", action="/status?tag=a", method="get")
    webhook_receiver.bodies["/sms"] = str(twiml).encode()
    result = inbound(emulator)
    assert result["twiml"]["warnings"] == []
    [reply] = result["twiml"]["replies"]
    requests = webhook_receiver.wait_for(
        lambda rs: any(r.form.get("MessageStatus") == "delivered" for r in rs)
    )
    callbacks = [r for r in requests if r.path.startswith("/status?")]
    assert [r.method for r in callbacks] == ["GET", "GET", "GET"]
    assert [r.form["MessageStatus"] for r in callbacks] == ["sending", "sent", "delivered"]
    validator = RequestValidator(emulator.auth_token)
    for callback in callbacks:
        assert (callback.form["tag"], callback.form["MessageSid"]) == ("a", reply["sid"])
        # A GET is signed over the whole URL, query string included, with no parameters.
        assert validator.validate(callback.url, {}, callback.headers["x-twilio-signature"])
    logged = httpx.get(emulator.url + "/_emulator/webhooks").json()["webhooks"]
    assert {w["method"] for w in logged if w["kind"] == "status"} == {"GET"}


def test_a_bad_method_or_action_is_a_warning_and_the_reply_still_goes(emulator, webhook_receiver):
    twiml = MessagingResponse()
    twiml.message("One", action=webhook_receiver.url + "/status", method="PUT")
    twiml.message("Two", action="ftp://example.com/status")
    webhook_receiver.bodies["/sms"] = str(twiml).encode()
    result = inbound(emulator)
    assert result["twiml"]["error"] is None
    assert [w["code"] for w in result["twiml"]["warnings"]] == [14104, 14105]
    one, two = result["twiml"]["replies"]
    requests = webhook_receiver.wait_for(
        lambda rs: any(r.form.get("MessageStatus") == "delivered" for r in rs)
    )
    # 14104: the callbacks go by POST; 14105: the reply is sent without callbacks.
    callbacks = [r for r in requests if r.path == "/status"]
    assert {r.method for r in callbacks} == {"POST"}
    assert {r.form["MessageSid"] for r in callbacks} == {one["sid"]}
    assert two["status"] == "queued"


def test_whatsapp_reply_stays_on_whatsapp(make_emulator, webhook_receiver):
    emulator = make_emulator(sms_url=webhook_receiver.url + "/sms")
    webhook_receiver.bodies["/sms"] = str(MessagingResponse().append(Message("Hi!"))).encode()
    result = inbound(emulator, From="whatsapp:" + CUSTOMER, To="whatsapp:+14155238886")
    [reply] = result["twiml"]["replies"]
    assert (reply["from"], reply["to"]) == ("whatsapp:+14155238886", "whatsapp:" + CUSTOMER)


def test_redirect_fetches_more_twiml_with_the_same_parameters(emulator, webhook_receiver):
    webhook_receiver.bodies["/sms"] = str(MessagingResponse().append(Redirect("/next"))).encode()
    webhook_receiver.bodies["/next"] = str(MessagingResponse().append(Message("Next"))).encode()
    result = inbound(emulator, Body="menu")
    [reply] = result["twiml"]["replies"]
    assert reply["body"] == "Next"
    first, second = webhook_receiver.requests[:2]
    assert (first.path, second.path) == ("/sms", "/next")
    assert second.form == first.form
    validator = RequestValidator(emulator.auth_token)
    assert validator.validate(second.url, second.params, second.headers["x-twilio-signature"])


def test_an_empty_response_sends_nothing(emulator):
    result = inbound(emulator)
    assert result["twiml"] == {"replies": [], "error": None, "warnings": []}


@pytest.mark.parametrize(
    ("status", "content_type", "body", "code"),
    [
        (500, "text/xml", b"<Response><Message>x</Message></Response>", 11200),
        (200, "text/plain", b"just text", 12300),
        (200, "text/xml", b"<Response><Message>unclosed</Response>", 12100),
        (200, "text/xml", b"<Foo><Message>x</Message></Foo>", 12100),
        (
            200,
            "text/xml",
            b'<!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Message>&a;</Message></Response>',
            12100,
        ),
        (200, "text/xml", b'<Response><Message to="nobody">x</Message></Response>', 14101),
        (200, "text/xml", b'<Response><Message from="12">x</Message></Response>', 14102),
        # Arabic-Indic digits are not E.164 digits.
        (
            200,
            "text/xml",
            '<Response><Message to="+4\u0667400123456">x</Message></Response>'.encode(),
            14101,
        ),
        (200, "text/xml", b"<Response><Message>  </Message></Response>", 14103),
    ],
)
def test_twiml_errors(emulator, webhook_receiver, status, content_type, body, code):
    webhook_receiver.answer = lambda request: status
    webhook_receiver.content_type = content_type
    webhook_receiver.response_body = body
    result = inbound(emulator)
    assert result["twiml"]["replies"] == []
    assert result["twiml"]["error"]["code"] == code
    assert result["twiml"]["error"]["message"]


def test_replies_before_an_error_stand_and_none_after(emulator, webhook_receiver):
    webhook_receiver.response_body = (
        b"<Response><Message>one</Message><Message/><Message>three</Message></Response>"
    )
    result = inbound(emulator)
    assert [r["body"] for r in result["twiml"]["replies"]] == ["one"]
    assert result["twiml"]["error"]["code"] == 14103


def test_no_reply_to_a_recipient_who_opted_out(emulator, webhook_receiver):
    webhook_receiver.response_body = b"<Response><Message>Bye?</Message></Response>"
    result = inbound(emulator, Body="STOP")
    assert result["twiml"]["replies"] == []
    assert result["twiml"]["error"]["code"] == 21610


def test_a_redirect_loop_ends(emulator, webhook_receiver):
    webhook_receiver.response_body = b"<Response><Redirect>/sms</Redirect></Response>"
    result = inbound(emulator)
    assert result["twiml"]["error"]["code"] == 12100
    assert len(webhook_receiver.requests) == 11  # the webhook, then 10 redirects


def test_a_reply_whose_action_url_cannot_be_read_is_delivered_and_logs_no_error(
    emulator, webhook_receiver, caplog
):
    webhook_receiver.content_type = "text/xml"
    webhook_receiver.response_body = (
        b'<Response><Message action="http://[::1">x</Message>'
        b'<Message action="http://example.com:99999/cb">y</Message></Response>'
    )
    twiml = inbound(emulator)["twiml"]
    # Twilio's warning 14105 for each: the replies go, without status callbacks.
    assert [w["code"] for w in twiml["warnings"]] == [14105, 14105]
    sids = {reply["sid"] for reply in twiml["replies"]}
    deadline = time.monotonic() + 10
    while True:
        sent = [m for m in emulator.messages() if m["sid"] in sids]
        if len(sent) == 2 and all(m["status"] == "delivered" for m in sent):
            break
        assert time.monotonic() < deadline, sent
        time.sleep(0.02)
    assert all(m["status_callback"] is None for m in sent)
    assert [h for h in emulator.webhooks() if h["kind"] == "status"] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
