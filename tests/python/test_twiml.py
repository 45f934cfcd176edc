"""twiliocore.twiml writes the same TwiML as twilio-python for the same calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twilio.twiml import messaging_response as theirs
from twiliocore import twiml as ours


def _reply(module: Any) -> Any:
    response = module.MessagingResponse()
    response.message("Thanks, we got it.")
    return response


def _everything(module: Any) -> Any:
    response = module.MessagingResponse()
    message = response.message(
        to="+14155550100",
        from_="+15005550006",
        action="https://example.com/status?a=1&b=2",
        method="POST",
        status_callback="https://example.com/old",
        custom_flag=True,
    )
    message.body("Tom & Jerry <3 \"quotes\" 'and' ünïcödé 😀")
    message.media("https://example.com/cat.png")
    message.media("https://example.com/dog.png")
    response.message("second")
    response.redirect("https://example.com/next", method="GET")
    return response


def _nested_text(module: Any) -> Any:
    response = module.MessagingResponse()
    message = response.message()
    message.append("before ")
    message.body("body")
    message.append(" after")
    response.add_child("Custom", "value", some_attr="x")
    return response


def _empty(module: Any) -> Any:
    return module.MessagingResponse()


def _context_managers(module: Any) -> Any:
    with module.MessagingResponse() as response:
        with response.message() as message:
            message.body("hello")
    return response


@pytest.mark.parametrize(
    "build",
    [_reply, _everything, _nested_text, _empty, _context_managers],
    ids=lambda f: f.__name__,
)
def test_same_xml_as_twilio_python(build: Callable[[Any], Any]) -> None:
    assert str(build(ours)) == str(build(theirs))
    assert build(ours).to_xml(xml_declaration=False) == build(theirs).to_xml(xml_declaration=False)


def test_reply_document() -> None:
    assert str(_reply(ours)) == (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Message>Thanks, we got it.</Message></Response>"
    )


def test_only_twiml_and_text_nest() -> None:
    with pytest.raises(ours.TwiMLException, match="child"):
        ours.MessagingResponse().nest(42)  # type: ignore[type-var]
