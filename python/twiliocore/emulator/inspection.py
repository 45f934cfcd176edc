"""Inspection endpoints, outside Twilio's paths: what the emulator saw and did.

- ``GET /_emulator/messages``: every message it accepted (or received), oldest first, with
  the request headers that matter (``User-Agent``, ``I-Twilio-Idempotency-Token``, ...) and
  the status history; filters ``to``, ``from``, ``status``, ``direction``.
- ``GET /_emulator/webhooks``: every webhook it sent, with each attempt; filters
  ``message_sid``, ``kind``.
- ``GET /_emulator/numbers`` / ``POST /_emulator/numbers`` (``PhoneNumber``, ``SmsUrl``,
  ``SmsMethod``): the senders the account owns; add one.
- ``GET /_emulator/account`` / ``POST /_emulator/account`` (``Status``: ``active``,
  ``suspended`` or ``closed``): the account's status; while not active, every API request
  with its credentials is refused with 401 / 20003, as Twilio refuses a suspended account.
- ``POST /_emulator/reset``: forget every message and webhook, empty the queues, restart
  the fault sequence from its seed, restore the initial numbers.
- ``GET /_emulator/health``: liveness and the account SID (never the token).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from twiliocore.emulator.responses import TwilioError, new_sid, read_form
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import OwnedNumber

__all__ = ["number_json", "routes"]

# re.ASCII: \d is 0-9 only (not Arabic-Indic or other Unicode digits).
_ADDRESS = re.compile(
    r"^(whatsapp:)?\+[1-9]\d{6,14}$|^\d{5,6}$|^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$", re.ASCII
)


_ACCOUNT_STATUSES = ("active", "suspended", "closed")


def number_json(number: OwnedNumber) -> dict[str, Any]:
    """Return an owned sender as the inspection endpoint shows it."""
    return {
        "sid": number.sid,
        "phone_number": number.address,
        "sms_url": number.sms_url,
        "sms_method": number.sms_method,
    }


def routes(rt: Runtime) -> list[BaseRoute]:
    """Return the ``/_emulator`` inspection routes bound to ``rt``."""

    async def messages(request: Request) -> Response:
        query = request.query_params
        wanted = {k: query[k] for k in ("to", "from", "status", "direction") if query.get(k)}
        items = []
        for record in rt.store.messages():
            data = record.to_inspection()
            if all(data.get(key) == value for key, value in wanted.items()):
                items.append(data)
        return JSONResponse({"messages": items, "count": len(items)})

    async def webhooks(request: Request) -> Response:
        query = request.query_params
        items = [
            w
            for w in rt.store.webhooks()
            if (not query.get("message_sid") or w["message_sid"] == query["message_sid"])
            and (not query.get("kind") or w["kind"] == query["kind"])
        ]
        return JSONResponse({"webhooks": items, "count": len(items)})

    async def numbers(request: Request) -> Response:
        if request.method == "POST":
            form = await read_form(request, rt.config.max_body_bytes)
            address = (form.get("PhoneNumber") or "").strip()
            if not _ADDRESS.match(address):
                raise TwilioError(
                    400,
                    21421,
                    "PhoneNumber must be +E164, whatsapp:+E164, a short code or an"
                    " alphanumeric sender ID",
                )
            method = (form.get("SmsMethod") or "POST").upper()
            if method not in ("GET", "POST"):
                raise TwilioError(400, 20001, "SmsMethod must be GET or POST")
            number = OwnedNumber(
                address, new_sid("PN"), sms_url=form.get("SmsUrl") or None, sms_method=method
            )
            rt.store.add_number(number)
            return JSONResponse(number_json(number), status_code=201)
        return JSONResponse({"numbers": [number_json(n) for n in rt.store.numbers()]})

    async def account(request: Request) -> Response:
        if request.method == "POST":
            form = await read_form(request, rt.config.max_body_bytes)
            wanted = (form.get("Status") or "").strip().lower()
            if wanted not in _ACCOUNT_STATUSES:
                raise TwilioError(400, 20001, "Status must be active, suspended or closed")
            rt.account_status = wanted
        return JSONResponse({"account_sid": rt.config.account_sid, "status": rt.account_status})

    async def reset(request: Request) -> Response:
        await rt.reset()
        return JSONResponse({"reset": True})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "account_sid": rt.config.account_sid})

    return [
        Route("/_emulator/messages", messages, methods=["GET"]),
        Route("/_emulator/webhooks", webhooks, methods=["GET"]),
        Route("/_emulator/numbers", numbers, methods=["GET", "POST"]),
        Route("/_emulator/account", account, methods=["GET", "POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/health", health, methods=["GET"]),
    ]
