"""TwiML for messaging: the answer to an incoming-message webhook.

Twilio posts each incoming SMS or WhatsApp message to your number's webhook and runs the
TwiML it answers: every ``<Message>`` becomes an outbound reply, a ``<Redirect>`` fetches
more TwiML from another URL. The classes and methods carry twilio-python's names
(``twilio.twiml.messaging_response``), and the XML they write is the same, byte for byte::

    >>> from twiliocore.twiml import MessagingResponse
    >>> response = MessagingResponse()
    >>> response.message("Got it.")
    <Message>
    >>> str(response)
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Got it.</Message></Response>'

Attributes are given in snake case and written in TwiML's lower camel case
(``status_callback`` → ``statusCallback``; ``from_`` → ``from``), sorted by name; ``None``
leaves an attribute out and booleans are written ``true``/``false``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, TypeVar

__all__ = ["Body", "Media", "Message", "MessagingResponse", "Redirect", "TwiML", "TwiMLException"]

_Node = TypeVar("_Node", bound="TwiML")
_Child = TypeVar("_Child", bound="TwiML | str")

# Python keywords and names TwiML spells differently.
_RENAMED = {"from_": "from", "xml_lang": "xml:lang"}


class TwiMLException(Exception):
    """Raised when a TwiML document cannot be built (e.g. nesting something not TwiML)."""


def _attribute_name(name: str) -> str:
    name = _RENAMED.get(name, name)
    if "_" not in name:
        return name
    camel = "".join(part.title() for part in name.split("_"))
    return camel[0].lower() + camel[1:]


class TwiML:
    """One TwiML element: a tag, attributes, an optional text value and nested elements.

    Args:
        value: the element's text (e.g. a message body or a URL), or ``None``.
        **attributes: the element's attributes, in snake case.
    """

    tag = "TwiML"

    def __init__(self, value: str | None = None, **attributes: Any) -> None:
        self.value = value
        self.attributes: dict[str, Any] = {
            _attribute_name(name): v for name, v in attributes.items() if v is not None
        }
        self.children: list[TwiML | str] = []

    def __str__(self) -> str:
        return self.to_xml()

    def __repr__(self) -> str:
        return f"<{self.tag}>"

    def __enter__(self: _Node) -> _Node:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def nest(self, child: _Child) -> _Child:
        """Append ``child`` (an element, or text) and return it."""
        if not isinstance(child, TwiML | str):
            raise TwiMLException(
                f"child: only TwiML elements and strings nest, got {type(child).__name__}"
            )
        self.children.append(child)
        return child

    def append(self: _Node, child: TwiML | str) -> _Node:
        """Append ``child`` (an element, or text) and return this element."""
        self.nest(child)
        return self

    def add_child(self, tag: str, value: str | None = None, **attributes: Any) -> TwiML:
        """Append an element TwiML has that this module has no class for, and return it."""
        child = TwiML(value, **attributes)
        child.tag = tag
        return self.nest(child)

    def xml(self) -> ET.Element:
        """Return this element and its children as an :mod:`xml.etree` element."""
        element = ET.Element(self.tag)
        for name in sorted(self.attributes):
            value = self.attributes[name]
            element.set(name, str(value).lower() if isinstance(value, bool) else str(value))
        if self.value:
            element.text = self.value
        last: ET.Element | None = None
        for child in self.children:
            if isinstance(child, str):
                if last is None:
                    element.text = child
                else:
                    last.tail = child
            else:
                last = child.xml()
                element.append(last)
        return element

    def to_xml(self, xml_declaration: bool = True) -> str:
        """Return the document as a string, with the XML declaration unless told not to."""
        text = ET.tostring(self.xml(), encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>' + text if xml_declaration else text


class Body(TwiML):
    """``<Body>``: the text of a ``<Message>``."""

    tag = "Body"


class Media(TwiML):
    """``<Media>``: the URL of a file to send with a ``<Message>`` (MMS, WhatsApp)."""

    tag = "Media"


class Redirect(TwiML):
    """``<Redirect>``: continue with the TwiML at another URL."""

    tag = "Redirect"

    def __init__(self, url: str, **attributes: Any) -> None:
        super().__init__(url, **attributes)


class Message(TwiML):
    """``<Message>``: send a message, by default back to whoever wrote in."""

    tag = "Message"

    def __init__(self, body: str | None = None, **attributes: Any) -> None:
        super().__init__(body, **attributes)

    def body(self, message: str, **attributes: Any) -> Body:
        """Append a ``<Body>`` and return it."""
        return self.nest(Body(message, **attributes))

    def media(self, url: str, **attributes: Any) -> Media:
        """Append a ``<Media>`` and return it."""
        return self.nest(Media(url, **attributes))


class MessagingResponse(TwiML):
    """``<Response>``: the TwiML document answering an incoming-message webhook."""

    tag = "Response"

    def __init__(self, **attributes: Any) -> None:
        super().__init__(None, **attributes)

    def message(
        self,
        body: str | None = None,
        to: str | None = None,
        from_: str | None = None,
        action: str | None = None,
        method: str | None = None,
        status_callback: str | None = None,
        **attributes: Any,
    ) -> Message:
        """Append a ``<Message>`` and return it.

        Args:
            body: the text (or add ``<Body>``/``<Media>`` to the returned element).
            to: the recipient; by default the sender of the incoming message.
            from_: the sender; by default the number the incoming message was sent to.
            action: the URL Twilio posts the reply's status callbacks to.
            method: ``"GET"`` or ``"POST"`` for ``action``.
            status_callback: the older name of ``action``.
            **attributes: any other attribute.
        """
        return self.nest(
            Message(
                body,
                to=to,
                from_=from_,
                action=action,
                method=method,
                status_callback=status_callback,
                **attributes,
            )
        )

    def redirect(self, url: str, method: str | None = None, **attributes: Any) -> Redirect:
        """Append a ``<Redirect>`` to ``url`` and return it."""
        return self.nest(Redirect(url, method=method, **attributes))
