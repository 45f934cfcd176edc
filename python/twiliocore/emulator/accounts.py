"""Accounts: ``GET /2010-04-01/Accounts.json`` and ``GET /2010-04-01/Accounts/{Sid}.json``.

The emulated account is ``active`` and ``Full``. Its ``auth_token`` field is always
``null``: the emulator never puts a secret in a response.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from twiliocore.emulator.responses import TwilioError, paged_list, rfc2822
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import API_VERSION

__all__ = ["account_json", "routes"]

#: Subresources Twilio lists for an account (relative URIs).
_SUBRESOURCES = (
    ("addresses", "Addresses"),
    ("available_phone_numbers", "AvailablePhoneNumbers"),
    ("balance", "Balance"),
    ("calls", "Calls"),
    ("incoming_phone_numbers", "IncomingPhoneNumbers"),
    ("keys", "Keys"),
    ("messages", "Messages"),
    ("notifications", "Notifications"),
    ("outgoing_caller_ids", "OutgoingCallerIds"),
    ("usage", "Usage"),
)


def account_json(rt: Runtime, created: float) -> dict[str, Any]:
    """Return the ``api.v2010.account`` representation of the emulated account."""
    sid = rt.config.account_sid
    base = f"/{API_VERSION}/Accounts/{sid}"
    return {
        "auth_token": None,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": rt.config.friendly_name,
        "owner_account_sid": sid,
        "sid": sid,
        "status": rt.account_status,
        "subresource_uris": {key: f"{base}/{name}.json" for key, name in _SUBRESOURCES},
        "type": "Full",
        "uri": f"{base}.json",
    }


def routes(rt: Runtime) -> list[BaseRoute]:
    """Return the Accounts routes bound to ``rt``."""
    created = time.time()

    async def fetch(request: Request) -> Response:
        if request.path_params["Sid"] != rt.config.account_sid:
            raise TwilioError(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return JSONResponse(account_json(rt, created))

    async def listing(request: Request) -> Response:
        query = request.query_params
        filters = {name: query[name] for name in ("FriendlyName", "Status") if query.get(name)}
        account = account_json(rt, created)
        matches = all(
            account[field] == filters[name]
            for name, field in (("FriendlyName", "friendly_name"), ("Status", "status"))
            if name in filters
        )
        return paged_list(
            request,
            "accounts",
            f"/{API_VERSION}/Accounts.json",
            [account] if matches else [],
            filters,
            lambda a: str(a["sid"]),
            lambda a: a,
        )

    return [
        Route(f"/{API_VERSION}/Accounts.json", listing, methods=["GET"]),
        Route(f"/{API_VERSION}/Accounts/{{Sid}}.json", fetch, methods=["GET"]),
    ]
