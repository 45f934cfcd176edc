"""``POST /_emulator/inbound``: simulate an SMS or WhatsApp message arriving at a number.

Parameters (form or JSON): ``From`` and ``To`` (required; ``whatsapp:+E164`` for WhatsApp),
``Body``, ``MediaUrl`` and ``MediaContentType`` (repeatable, paired by position),
``ProfileName`` (WhatsApp), ``Url`` and ``Method`` (override the number's SmsUrl).

The emulator records the message (``direction`` inbound, ``status`` received), posts
Twilio's incoming-message webhook, signed, to the SmsUrl of the receiving number (or
``Url``), retrying failures, runs the TwiML the receiver answers (its ``<Message>``
replies are sent; see :mod:`twiliocore.emulator.replies`), and answers with the message,
the webhook log entry, the receiver's answer and what its TwiML did (``twiml``: the
replies sent, the error that stopped it, if any, and the warnings).
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from twiliocore.emulator.replies import run_twiml
from twiliocore.emulator.responses import FormData, TwilioError, new_sid, read_body, read_form
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import API_VERSION, E164, MessageRecord
from twiliocore.errors import InvalidPhoneNumber
from twiliocore.phone import number_info
from twiliocore.segments import count_segments

__all__ = ["incoming_params", "routes"]


#: Twilio's default opt-out and opt-in keywords on long codes and toll-free numbers.
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def _country(number: str) -> str:
    try:
        region = number_info(number, "").region
    except (InvalidPhoneNumber, ValueError):
        return ""
    return region if len(region) == 2 and region.isalpha() else ""


def incoming_params(
    record: MessageRecord, content_types: list[str], profile_name: str | None
) -> list[tuple[str, str]]:
    """Return the form parameters of Twilio's incoming-message webhook for ``record``."""
    from_number = record.from_.removeprefix("whatsapp:")
    to_number = record.to.removeprefix("whatsapp:")
    params = [
        ("AccountSid", record.account_sid),
        ("ApiVersion", API_VERSION),
        ("Body", record.body),
        ("From", record.from_),
        ("FromCountry", _country(from_number)),
        ("MessageSid", record.sid),
        ("NumMedia", str(len(record.media_urls))),
        ("NumSegments", str(record.num_segments)),
        ("SmsMessageSid", record.sid),
        ("SmsSid", record.sid),
        ("SmsStatus", "received"),
        ("To", record.to),
        ("ToCountry", _country(to_number)),
    ]
    for index, url in enumerate(record.media_urls):
        params.append((f"MediaUrl{index}", url))
        kind = content_types[index] if index < len(content_types) else "image/jpeg"
        params.append((f"MediaContentType{index}", kind))
    if record.from_.startswith("whatsapp:"):
        params += [
            ("MessageType", "image" if record.media_urls else "text"),
            ("ProfileName", profile_name or "WhatsApp User"),
            ("WaId", from_number.lstrip("+")),
        ]
    return params


async def _read_params(rt: Runtime, request: Request) -> FormData:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return await read_form(request, rt.config.max_body_bytes)
    raw = await read_body(request, rt.config.max_body_bytes)
    try:
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
        raise TwilioError(400, 20001, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise TwilioError(400, 20001, "Request body must be a JSON object")
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((str(name), "" if v is None else str(v)) for v in values)
    return FormData(pairs)


def routes(rt: Runtime) -> list[BaseRoute]:
    """Return the ``/_emulator/inbound`` route bound to ``rt``."""

    async def inbound(request: Request) -> Response:
        form = await _read_params(rt, request)
        from_ = (form.get("From") or "").strip()
        to = (form.get("To") or "").strip()
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        whatsapp = to.startswith("whatsapp:")
        if from_.startswith("whatsapp:") != whatsapp:
            raise TwilioError(
                400, 21910, "Invalid From and To pair. From and To should be of the same channel"
            )
        if not E164.match(from_.removeprefix("whatsapp:")):
            raise TwilioError(400, 21212, f"The 'From' number {from_} is not a valid phone number")
        owned = rt.store.number(to)
        url = form.get("Url") or (owned.sms_url if owned else None) or rt.config.sms_url
        method = (form.get("Method") or (owned.sms_method if owned else "POST")).upper()
        if owned is None and not form.get("Url"):
            raise TwilioError(
                404, 20404, f"{to} is not a number of this account; add it or pass Url"
            )
        if not url:
            raise TwilioError(
                400, 21609, f"No SmsUrl is configured for {to}; configure one or pass Url"
            )
        if method not in ("GET", "POST"):
            raise TwilioError(400, 20001, "Method must be GET or POST")
        body = form.get("Body") or ""
        media = [u for u in form.getlist("MediaUrl") if u]
        try:
            segments = 1 if whatsapp else count_segments(body).num_segments
        except ValueError:
            raise TwilioError(400, 21617, "Body contains characters that cannot be sent") from None
        now = time.time()
        record = MessageRecord(
            sid=new_sid("MM" if media else "SM"),
            account_sid=rt.config.account_sid,
            to=to,
            from_=from_,
            body=body,
            status="received",
            direction="inbound",
            num_segments=segments,
            media_urls=media,
            media_types=form.getlist("MediaContentType"),
            date_created=now,
            date_updated=now,
            date_sent=now,
            price="-0.00790" if not whatsapp else "0.00000",
            price_unit="USD",
        )
        message = rt.store.add_message(record)
        keyword = body.strip().upper()
        if not whatsapp and keyword in OPT_OUT_KEYWORDS:
            rt.store.set_opt_out(from_, to, True)
        elif not whatsapp and keyword in OPT_IN_KEYWORDS:
            rt.store.set_opt_out(from_, to, False)
        params = incoming_params(
            record, form.getlist("MediaContentType"), form.get("ProfileName") or None
        )
        webhook, answer = await rt.webhooks.deliver(
            "incoming", url, params, message_sid=record.sid, method=method
        )
        run = await run_twiml(rt, answer, record, params, url)
        result: dict[str, Any] = {
            "message": message,
            "webhook": webhook.to_json(),
            "response": None,
            "twiml": run.to_json(),
        }
        if answer is not None:
            result["response"] = {
                "status": answer.status,
                "content_type": answer.content_type,
                "body": answer.body.decode("utf-8", errors="replace"),
            }
        return JSONResponse(result, status_code=200)

    return [Route("/_emulator/inbound", inbound, methods=["POST"])]
