"""A loopback fake of Twilio's numbers API, for resources the emulator does not serve yet.

It answers IncomingPhoneNumbers and AvailablePhoneNumbers as ``twilio_api_v2010.json``
describes them (every answer is checked against the spec's response schema), keeps every
request it got (method, path, query, form, headers) for the tests to assert on, and checks
Basic auth like Twilio (401 with error JSON 20003). ``routes`` may add other answers (a
resource of another domain).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.python.emulator.spec import response_schema, validate

ACCOUNT = "AC" + "a1" * 16
TOKEN = "t" * 32
V2010 = "/2010-04-01/Accounts/{AccountSid}"


@dataclass
class Request:
    """One request the fake got."""

    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    headers: dict[str, str]


Answer = tuple[int, dict[str, Any] | None]
Route = Callable[["FakeTwilio", Request, re.Match[str]], Answer]


def _error(status: int, code: int, message: str) -> Answer:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _date() -> str:
    return format_datetime(datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc), usegmt=True)


@dataclass
class FakeTwilio:
    """The server's state: numbers bought, the requests seen, extra routes."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    routes: list[tuple[str, str, Route]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- IncomingPhoneNumbers ------------------------------------------------------------

    def number(self, sid: str, phone_number: str, **fields: Any) -> dict[str, Any]:
        """A number record with every field of the spec's incoming_phone_number."""
        record: dict[str, Any] = {
            "account_sid": ACCOUNT,
            "address_sid": None,
            "address_requirements": "none",
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": {"mms": True, "sms": True, "voice": True, "fax": False},
            "date_created": _date(),
            "date_updated": _date(),
            "friendly_name": phone_number,
            "identity_sid": None,
            "phone_number": phone_number,
            "origin": "twilio",
            "sid": sid,
            "sms_application_sid": None,
            "sms_fallback_method": "POST",
            "sms_fallback_url": None,
            "sms_method": "POST",
            "sms_url": None,
            "status_callback": None,
            "status_callback_method": "POST",
            "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{sid}.json",
            "voice_receive_mode": "voice",
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": None,
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "bundle_sid": None,
            "status": "in-use",
            "type": "local",
        }
        record.update(fields)
        return record


def _create_number(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    form = dict(req.form)
    number = form.get("PhoneNumber") or (
        "+1" + form["AreaCode"] + "5550100" if "AreaCode" in form else ""
    )
    if not number:
        return _error(400, 21605, "PhoneNumber or AreaCode is required")
    sid = "PN" + f"{len(fake.numbers) + 1:032x}"
    record = fake.number(sid, number)
    if "FriendlyName" in form:
        record["friendly_name"] = form["FriendlyName"]
    if "SmsUrl" in form:
        record["sms_url"] = form["SmsUrl"]
    fake.numbers[sid] = record
    return 201, record


def _list_numbers(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    query = dict(req.query)
    records = list(fake.numbers.values())
    for name, member in (("PhoneNumber", "phone_number"), ("FriendlyName", "friendly_name")):
        if name in query:
            records = [r for r in records if r[member] == query[name]]
    if "Origin" in query:
        records = [r for r in records if r["origin"] == query["Origin"]]
    if query.get("Beta") == "false":
        records = [r for r in records if not r["beta"]]
    size = int(query.get("PageSize", "50"))
    page = int(query.get("Page", "0"))
    chunk = records[page * size : (page + 1) * size]
    base = m.group(0).split("?")[0]

    def uri(n: int) -> str:
        return f"{base}?PageSize={size}&Page={n}"

    return 200, {
        "incoming_phone_numbers": chunk,
        "end": page * size + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if (page + 1) * size < len(records) else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": page * size,
        "uri": uri(page),
    }


def _one_number(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    sid = m.group("sid")
    if sid not in fake.numbers:
        return _error(404, 20404, f"The requested resource {req.path} was not found")
    if req.method == "DELETE":
        del fake.numbers[sid]
        return 204, None
    if req.method == "POST":
        form = dict(req.form)
        record = fake.numbers[sid]
        for name, member in (("FriendlyName", "friendly_name"), ("SmsUrl", "sms_url")):
            if name in form:
                record[member] = form[name]
        if "VoiceCallerIdLookup" in form:
            record["voice_caller_id_lookup"] = form["VoiceCallerIdLookup"] == "true"
    return 200, fake.numbers[sid]


# --- AvailablePhoneNumbers ---------------------------------------------------------------

AVAILABLE = [
    {
        "friendly_name": "(415) 555-0101",
        "phone_number": "+14155550101",
        "lata": "722",
        "locality": "San Francisco",
        "rate_center": "SNFC CA",
        "latitude": 37.77,
        "longitude": -122.42,
        "region": "CA",
        "postal_code": "94105",
        "iso_country": "US",
        "address_requirements": "none",
        "beta": False,
        "capabilities": {"mms": True, "sms": True, "voice": True, "fax": False},
    },
    {
        "friendly_name": "(212) 555-0102",
        "phone_number": "+12125550102",
        "lata": "132",
        "locality": "New York",
        "rate_center": "NWYRCYZN01",
        "latitude": 40.71,
        "longitude": -74.0,
        "region": "NY",
        "postal_code": "10001",
        "iso_country": "US",
        "address_requirements": "none",
        "beta": False,
        "capabilities": {"mms": False, "sms": True, "voice": True, "fax": False},
    },
]


def _countries(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    return 200, {"countries": [_country("US")], "uri": req.path}


def _country(code: str) -> dict[str, Any]:
    base = f"/2010-04-01/Accounts/{ACCOUNT}/AvailablePhoneNumbers/{code}"
    return {
        "country_code": code,
        "country": "United States",
        "uri": base + ".json",
        "beta": False,
        "subresource_uris": {"local": base + "/Local.json", "toll_free": base + "/TollFree.json"},
    }


def _one_country(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    if m.group("country") != "US":
        return _error(404, 20404, f"The requested resource {req.path} was not found")
    return 200, _country("US")


def _available(fake: FakeTwilio, req: Request, m: re.Match[str]) -> Answer:
    query = dict(req.query)
    found = AVAILABLE
    if "AreaCode" in query:
        found = [n for n in found if n["phone_number"][2:5] == query["AreaCode"]]
    if "Contains" in query:
        found = [n for n in found if query["Contains"] in n["phone_number"]]
    if query.get("MmsEnabled") == "true":
        found = [n for n in found if n["capabilities"]["mms"]]
    if m.group("kind") == "TollFree":
        found = []
    return 200, {
        "available_phone_numbers": found,
        "end": max(len(found) - 1, 0),
        "first_page_uri": req.path,
        "next_page_uri": None,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": None,
        "start": 0,
        "uri": req.path,
    }


_V2010_ROUTES: list[tuple[str, str, Route, str]] = [
    ("POST", r"/IncomingPhoneNumbers\.json", _create_number, "/IncomingPhoneNumbers.json"),
    ("GET", r"/IncomingPhoneNumbers\.json", _list_numbers, "/IncomingPhoneNumbers.json"),
    ("GET|POST|DELETE", r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json", _one_number,
     "/IncomingPhoneNumbers/{Sid}.json"),
    ("GET", r"/AvailablePhoneNumbers\.json", _countries, "/AvailablePhoneNumbers.json"),
    ("GET", r"/AvailablePhoneNumbers/(?P<country>\w\w)\.json", _one_country,
     "/AvailablePhoneNumbers/{CountryCode}.json"),
    ("GET", r"/AvailablePhoneNumbers/(?P<country>\w\w)/(?P<kind>\w+)\.json", _available,
     "/AvailablePhoneNumbers/{CountryCode}/{kind}.json"),
]  # fmt: skip


def _spec_path(template: str, match: re.Match[str]) -> str:
    kind = match.groupdict().get("kind")
    return (V2010 + template).replace("{kind}", kind or "")


def _answer(fake: FakeTwilio, req: Request) -> Answer:
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    if req.headers.get("authorization") != expected:
        return _error(401, 20003, "Authenticate")
    for methods, pattern, route in fake.routes:
        m = re.fullmatch(pattern, req.path)
        if m and req.method in methods.split("|"):
            return route(fake, req, m)
    prefix = f"/2010-04-01/Accounts/{ACCOUNT}"
    for methods, pattern, route, template in _V2010_ROUTES:
        m = re.fullmatch(re.escape(prefix) + pattern, req.path)
        if m and req.method in methods.split("|"):
            status, body = route(fake, req, m)
            if body is not None:  # every answer as the spec describes it
                spec_status = str(status) if status in (200, 201) else "default"
                if spec_status != "default":
                    method = req.method.lower()
                    validate(body, response_schema(_spec_path(template, m), method, spec_status))
            return status, body
    return _error(404, 20404, f"The requested resource {req.path} was not found")


def serve() -> Iterator[FakeTwilio]:
    """Run a fake on 127.0.0.1 (an ephemeral port) for the duration of the generator."""
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            parts = urlsplit(self.path)
            req = Request(
                self.command,
                parts.path,
                parse_qsl(parts.query, keep_blank_values=True),
                parse_qsl(body, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
            )
            with fake.lock:
                fake.requests.append(req)
                try:
                    status, answer = _answer(fake, req)
                except Exception as exc:  # a broken answer is a 500 the test sees
                    status, answer = _error(500, 0, f"fake: {exc!r}")
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            if answer is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
