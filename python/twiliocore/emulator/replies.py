"""Running the TwiML a receiver answers to an incoming-message webhook.

As Twilio does, every ``<Message>`` of the answer becomes an outbound message (direction
``outbound-reply``), by default from the number written to back to whoever wrote, with
``<Body>``/``<Media>`` or the element's text; ``action`` (or the older ``statusCallback``)
receives its status callbacks, by the element's ``method`` (``POST`` unless ``GET``); a relative
URL resolves against the document's. A ``<Redirect>`` fetches more TwiML from its URL with the
same webhook parameters. An empty answer sends nothing.

What Twilio reports in its debugger is reported here as ``error`` beside the replies:
11200 (the receiver's answer is not a 2xx), 12300 (not XML), 12100 (XML that is not a
``<Response>``), 14101/14102 (a ``to``/``from`` attribute that is not an address),
14103 (a ``<Message>`` without body or media), 21610 (the recipient opted out of the
sender). Verbs after an error are not run; replies created before it stand.

Twilio's warnings are reported in ``warnings`` and do not stop the document: 14104 (a
``method`` other than ``GET``/``POST``: callbacks go by POST) and 14105 (an ``action`` that
is not an http(s) URL: the reply is sent without callbacks).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from twiliocore.emulator.responses import new_sid
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import E164, MessageRecord
from twiliocore.emulator.webhooks import HttpAnswer, is_http_url
from twiliocore.segments import count_segments

__all__ = ["TwimlRun", "run_twiml"]

#: ``<Redirect>`` chains longer than this stop with 12100, instead of looping forever.
MAX_REDIRECTS = 10

_XML_TYPES = ("text/xml", "application/xml")
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class TwimlRun:
    """What running a receiver's TwiML did: the replies sent, and the error that stopped it."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, code: int, message: str) -> None:
        """Record the error that stops the document."""
        self.error = {"code": code, "message": message}

    def warn(self, code: int, message: str) -> None:
        """Record a warning; the document goes on."""
        self.warnings.append({"code": code, "message": message})

    def to_json(self) -> dict[str, Any]:
        """Return ``{"replies": [...], "error": {...} | None, "warnings": [...]}``."""
        return {"replies": self.replies, "error": self.error, "warnings": self.warnings}


def _parse(answer: HttpAnswer, run: TwimlRun) -> ET.Element | None:
    """Return the answer's ``<Response>``, or ``None`` (nothing to run, or an error)."""
    if not 200 <= answer.status < 300:
        run.fail(11200, f"HTTP retrieval failure: the webhook answered {answer.status}")
        return None
    text = answer.body.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    media_type = answer.content_type.split(";")[0].strip().lower()
    if media_type not in _XML_TYPES and not text.startswith("<"):
        run.fail(12300, f"Invalid Content-Type: {media_type or 'none'} is not TwiML")
        return None
    if _DECLARATION.search(text):
        # TwiML has no DTD: refusing one leaves no entity to expand (billion laughs).
        run.fail(12100, "Document parse failure: DOCTYPE and ENTITY declarations are refused")
        return None
    try:
        root = ET.fromstring(text)  # noqa: S314 (no DTD reaches the parser: see above)
    except ET.ParseError as exc:
        run.fail(12100, f"Document parse failure: {exc}")
        return None
    if root.tag != "Response":
        run.fail(12100, f"Document parse failure: the root element is <{root.tag}>, not <Response>")
        return None
    return root


def _message_content(element: ET.Element) -> tuple[str, list[str]]:
    """The body and media URLs of a ``<Message>``: its ``<Body>``/``<Media>``, or its text."""
    bodies = [child.text or "" for child in element if child.tag == "Body"]
    media = [(child.text or "").strip() for child in element if child.tag == "Media"]
    body = "".join(bodies) if bodies else (element.text or "")
    return body, [url for url in media if url]


def _callback(element: ET.Element, document_url: str, run: TwimlRun) -> tuple[str | None, str]:
    """The status-callback URL and method of a ``<Message>`` (warning 14104/14105 if bad)."""
    method = (element.get("method") or "POST").strip().upper()
    if method not in ("GET", "POST"):
        run.warn(14104, f"Invalid method attribute {element.get('method')!r}: GET or POST")
        method = "POST"
    action = (element.get("action") or element.get("statusCallback") or "").strip()
    if not action:
        return None, method
    try:
        url = urljoin(document_url, action)
    except ValueError:
        url = action
    if not is_http_url(url):
        run.warn(14105, f"Invalid statusCallback attribute {action!r}: not an http(s) URL")
        return None, method
    return url, method


def _reply(
    rt: Runtime, element: ET.Element, inbound: MessageRecord, url: str, run: TwimlRun
) -> bool:
    """Send one ``<Message>``; return False when it is an error that stops the document."""
    whatsapp = inbound.to.startswith("whatsapp:")
    to = element.get("to") or inbound.from_
    from_ = element.get("from") or inbound.to
    if whatsapp:
        # On WhatsApp, an attribute may leave out the channel prefix.
        to = to if to.startswith("whatsapp:") else "whatsapp:" + to
        from_ = from_ if from_.startswith("whatsapp:") else "whatsapp:" + from_
    if not E164.match(to.removeprefix("whatsapp:")):
        run.fail(14101, f"Invalid 'To' attribute: {to}")
        return False
    if not E164.match(from_.removeprefix("whatsapp:")):
        run.fail(14102, f"Invalid 'From' attribute: {from_}")
        return False
    body, media = _message_content(element)
    if not body.strip() and not media:
        run.fail(14103, "Invalid Body: a <Message> needs a body or media")
        return False
    if rt.store.opted_out(to, from_):
        run.fail(21610, f"Attempt to send to unsubscribed recipient {to}")
        return False
    try:
        segments = 1 if (whatsapp or media) else count_segments(body).num_segments
    except ValueError:
        run.fail(14103, "Invalid Body: it holds characters that cannot be sent")
        return False
    callback, method = _callback(element, url, run)
    record = MessageRecord(
        sid=new_sid("MM" if media else "SM"),
        account_sid=rt.config.account_sid,
        to=to,
        from_=from_,
        body=body,
        status="queued",
        direction="outbound-reply",
        num_segments=segments,
        media_urls=media,
        status_callback=callback,
        status_callback_method=method,
    )
    created = rt.send_outbound(record)
    if created is None:
        run.fail(21611, "This 'From' number has exceeded the maximum number of queued messages")
        return False
    run.replies.append(created)
    return True


async def run_twiml(
    rt: Runtime,
    answer: HttpAnswer | None,
    inbound: MessageRecord,
    params: list[tuple[str, str]],
    url: str,
) -> TwimlRun:
    """Run the TwiML of ``answer`` to the incoming-message webhook of ``inbound``.

    Args:
        rt: the emulator.
        answer: what the receiver answered (``None`` when it never answered).
        inbound: the incoming message.
        params: the webhook's parameters (sent again on ``<Redirect>``).
        url: the URL that answered (relative ``<Redirect>`` URLs resolve against it).
    """
    run = TwimlRun()
    redirects = 0
    while True:
        if answer is None:
            run.fail(11200, "HTTP retrieval failure: the webhook did not answer")
            return run
        root = _parse(answer, run)
        if root is None:
            return run
        redirect: ET.Element | None = None
        for verb in root:
            if verb.tag == "Message":
                if not _reply(rt, verb, inbound, url, run):
                    return run
            elif verb.tag == "Redirect":
                redirect = verb
                break  # Twilio runs nothing after a <Redirect>
        if redirect is None:
            return run
        if redirects == MAX_REDIRECTS:
            run.fail(12100, f"Document parse failure: more than {MAX_REDIRECTS} <Redirect>s")
            return run
        redirects += 1
        url = urljoin(url, (redirect.text or "").strip())
        method = (redirect.get("method") or "POST").upper()
        _record, answer = await rt.webhooks.deliver(
            "incoming", url, params, message_sid=inbound.sid, method=method
        )
