"""Messages: ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` and ``Messages/{Sid}.json``.

Create (201), list with Twilio's paging, fetch, update (redact ``Body``, cancel a scheduled
message) and delete (204), validated as Twilio does with Twilio's error codes, including
the test-credential magic numbers; the ``Media`` subresource (list, fetch, delete) and
``Feedback.json`` (create).
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from twiliocore.emulator.responses import (
    FormData,
    TwilioError,
    form_bool,
    new_sid,
    paged_list,
    query_int,
    read_form,
    rfc2822,
)
from twiliocore.emulator.runtime import Runtime
from twiliocore.emulator.state import API_VERSION, E164, FINAL_STATUSES, MessageRecord
from twiliocore.emulator.webhooks import is_http_url
from twiliocore.errors import InvalidPhoneNumber
from twiliocore.phone import number_info
from twiliocore.segments import count_segments, smart_encode

__all__ = ["MAGIC_FROM", "MAGIC_TO", "routes"]

#: Test-credential ``From`` numbers and the error each one raises.
MAGIC_FROM: dict[str, tuple[int, str]] = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number"),
    "+15005550007": (
        21606,
        "The 'From' phone number provided (+15005550007) is not a valid message-capable"
        " Twilio phone number for this destination/account",
    ),
    "+15005550008": (
        21611,
        "This 'From' number has exceeded the maximum number of queued messages",
    ),
}

#: Test-credential ``To`` numbers and the error each one raises.
MAGIC_TO: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS"),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the"
        " 'To' number: +15005550003",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
SCHEDULE_MIN_SECONDS = 300
SCHEDULE_MAX_SECONDS = 35 * 24 * 3600

_SHORT_CODE = re.compile(r"^[0-9]{5,6}$")
_ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$")
_APPLICATION_SID = re.compile(r"AP[0-9a-fA-F]{32}")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")

#: Boolean create parameters (the spec's ``type: boolean``) besides ``SmartEncoded``.
BOOLEAN_PARAMS = ("ProvideFeedback", "ForceDelivery", "ShortenUrls", "SendAsMms")

#: Enum create parameters and their values (the spec's ``message_enum_*`` schemas).
ENUM_PARAMS: dict[str, tuple[str, ...]] = {
    "ContentRetention": ("retain", "discard"),
    "AddressRetention": ("retain", "obfuscate"),
    "TrafficType": ("free",),
    "RiskCheck": ("enable", "disable"),
}

#: ``Outcome`` values of ``Feedback.json`` (spec ``message_feedback_enum_outcome``).
FEEDBACK_OUTCOMES = ("confirmed", "unconfirmed")

#: Request headers kept with each created message for inspection.
INSPECTED_HEADERS = (
    "user-agent",
    "i-twilio-idempotency-token",
    "idempotency-key",
    "x-twilio-client",
    "x-request-id",
)


def routes(rt: Runtime) -> list[BaseRoute]:
    """Return the Messages routes bound to ``rt``."""
    prefix = f"/{API_VERSION}/Accounts/{{AccountSid}}"

    async def messages(request: Request) -> Response:
        if request.method == "POST":
            return await _create(rt, request)
        return _list(rt, request)

    async def message(request: Request) -> Response:
        sid = request.path_params["Sid"]
        if request.method == "POST":
            return await _update(rt, request, sid)
        if request.method == "DELETE":
            return _delete(rt, request, sid)
        return JSONResponse(_find(rt, request, sid).to_json())

    async def media_list(request: Request) -> Response:
        record = _find(rt, request, request.path_params["MessageSid"])
        return _media_page(request, record)

    async def feedback(request: Request) -> Response:
        return await _feedback(rt, request, request.path_params["MessageSid"])

    async def media_item(request: Request) -> Response:
        record = _find(rt, request, request.path_params["MessageSid"])
        sid = request.path_params["Sid"]
        item = next((m for m in record.media_json() if m["sid"] == sid), None)
        if item is None:
            raise _not_found(request)
        if request.method == "DELETE":
            rt.store.remove_media(record.sid, sid)
            return Response(status_code=204)
        return JSONResponse(item)

    return [
        Route(f"{prefix}/Messages.json", messages, methods=["GET", "POST"]),
        Route(f"{prefix}/Messages/{{Sid}}.json", message, methods=["GET", "POST", "DELETE"]),
        Route(f"{prefix}/Messages/{{MessageSid}}/Media.json", media_list, methods=["GET"]),
        Route(
            f"{prefix}/Messages/{{MessageSid}}/Media/{{Sid}}.json",
            media_item,
            methods=["GET", "DELETE"],
        ),
        Route(f"{prefix}/Messages/{{MessageSid}}/Feedback.json", feedback, methods=["POST"]),
    ]


# Create -------------------------------------------------------------------------------


def _bad(code: int, message: str) -> TwilioError:
    return TwilioError(400, code, message)


def _check_callback_url(url: str) -> None:
    host = urlsplit(url).hostname if is_http_url(url) else None
    if not host or "_" in host or not _HOSTNAME.match(host) or len(url) > 1024:
        raise _bad(21609, f"The StatusCallback URL {url} is not a valid URL.")


def _valid_number(e164: str) -> bool:
    if not E164.match(e164):
        return False
    try:
        number_info(e164, "")
    except (InvalidPhoneNumber, ValueError):
        return False
    return True


def _check_to(to: str) -> tuple[str, str]:
    """Return (channel, number) of a valid ``To``, or raise 21211 / a magic-number error."""
    channel, number = ("whatsapp", to[9:]) if to.startswith("whatsapp:") else ("sms", to)
    if number in MAGIC_TO:
        raise _bad(*MAGIC_TO[number])
    if not _valid_number(number):
        raise _bad(21211, f"The 'To' number {to} is not a valid phone number.")
    return channel, number


def _check_from(rt: Runtime, from_: str, to_channel: str) -> None:
    """Validate ``From``: magic numbers, format, channel, ownership."""
    channel, number = ("whatsapp", from_[9:]) if from_.startswith("whatsapp:") else ("sms", from_)
    if number in MAGIC_FROM and channel == "sms":
        raise _bad(*MAGIC_FROM[number])
    is_number = bool(E164.match(number))
    if not (
        (is_number and (rt.store.number(from_) is not None or _valid_number(number)))
        or (channel == "sms" and (_SHORT_CODE.match(number) or _ALPHANUMERIC.match(number)))
    ):
        raise _bad(
            21212,
            f"The 'From' number {from_} is not a valid phone number, shortcode,"
            " or alphanumeric sender ID.",
        )
    if channel != to_channel:
        raise _bad(
            21910,
            "Invalid From and To pair. From and To should be of the same channel",
        )
    if rt.store.number(from_) is None:
        if channel == "whatsapp":
            raise _bad(63007, "Twilio could not find a Channel with the specified From address")
        if is_number:
            raise _bad(
                21606,
                f"The 'From' phone number provided ({from_}) is not a valid message-capable"
                " Twilio phone number for this destination/account",
            )
        raise _bad(21659, f"'From' {from_} is not a Twilio phone number or Short Code")


def _check_content(content_sid: str | None, raw_variables: str | None) -> None:
    # Codes and rules of Twilio's error pages: 21655 "The ContentSid is Invalid" (must match
    # ^HX[0-9a-fA-F]{32}$), 21654 "ContentSid Required" (ContentVariables without
    # ContentSid), 21656 "The ContentVariables Parameter is invalid" (not a JSON object of
    # key/value pairs, or a value that is null or empty); twilio.com/docs/api/errors/<code>.
    # Whether the template exists is the Content API's to say; the emulator has none.
    if content_sid is not None and not _CONTENT_SID.match(content_sid):
        raise _bad(21655, f"The ContentSid {content_sid} is invalid: expected HX and 32 hex digits")
    if not raw_variables:
        return
    if content_sid is None:
        raise _bad(21654, "ContentSid Required: ContentVariables was given without ContentSid")
    try:
        variables = json.loads(raw_variables)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
        raise _bad(21656, "The ContentVariables Parameter is invalid: not valid JSON") from None
    if not isinstance(variables, dict):
        raise _bad(
            21656,
            "The ContentVariables Parameter is invalid: expected a JSON object of variables",
        )
    for key, value in variables.items():
        if not isinstance(value, str) or not value:
            raise _bad(
                21656,
                f"The ContentVariables Parameter is invalid: variable {key!r} must be a"
                " non-empty string",
            )


def _pick_sender(rt: Runtime, to_channel: str) -> str:
    for owned in rt.store.numbers():
        if owned.address.startswith("whatsapp:") == (to_channel == "whatsapp"):
            return owned.address
    raise _bad(21606, "The Messaging Service has no sender for this destination")


def _parse_send_at(form: FormData, service_sid: str | None) -> float | None:
    schedule_type = form.get("ScheduleType")
    send_at = form.get("SendAt")
    if not schedule_type and not send_at:
        return None
    if schedule_type != "fixed":
        raise _bad(35126, "ScheduleType must be 'fixed' to schedule a message")
    if not send_at:
        raise _bad(35111, "SendAt is required to schedule a message")
    if not service_sid:
        raise _bad(35118, "MessagingServiceSid is required to schedule a message")
    try:
        when = datetime.fromisoformat(send_at.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(35114, "SendAt is not a valid ISO-8601 date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = when.timestamp() - time.time()
    if delta < SCHEDULE_MIN_SECONDS:
        raise _bad(35114, "SendAt must be at least 300 seconds in the future")
    if delta > SCHEDULE_MAX_SECONDS:
        raise _bad(35115, "SendAt cannot be more than 35 days in the future")
    return when.timestamp()


def _check_typed_params(form: FormData) -> None:
    """Refuse create parameters whose value is not of the spec's type: 400 / 20001.

    The emulator has no use for them, but Twilio validates them: a boolean must be
    ``true``/``false``, ``Attempt`` an integer, ``MaxPrice`` a number, an enum one of its
    values, ``ApplicationSid`` an ``AP`` SID. Twilio documents no specific code for these.
    """
    for name in BOOLEAN_PARAMS:
        form_bool(form.get(name), name)
    query_int(form.get("Attempt"), "Attempt", 0, 2**31 - 1, 0)
    max_price = form.get("MaxPrice")
    if max_price and not _NUMBER.fullmatch(max_price):
        raise _bad(20001, "MaxPrice must be a number")
    for name, values in ENUM_PARAMS.items():
        value = form.get(name)
        if value and value not in values:
            raise _bad(20001, f"{name} must be one of {', '.join(values)}, not {value!r}")
    application_sid = form.get("ApplicationSid")
    if application_sid and not _APPLICATION_SID.fullmatch(application_sid):
        raise _bad(20001, f"ApplicationSid {application_sid} is invalid: expected AP + 32 hex")


async def _create(rt: Runtime, request: Request) -> Response:
    form = await read_form(request, rt.config.max_body_bytes)
    to = (form.get("To") or "").strip()
    from_ = (form.get("From") or "").strip()
    service_sid = (form.get("MessagingServiceSid") or "").strip() or None
    body = form.get("Body") or ""
    media = [url for url in form.getlist("MediaUrl") if url]
    content_sid = form.get("ContentSid") or None
    callback = form.get("StatusCallback") or None
    smart_encoded = form_bool(form.get("SmartEncoded"), "SmartEncoded")

    if not to:
        raise _bad(21604, "A 'To' phone number is required.")
    if not from_ and not service_sid:
        raise _bad(21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
    if service_sid is not None and not _SERVICE_SID.match(service_sid):
        raise _bad(21701, f"The Messaging Service Sid {service_sid} is invalid.")
    _check_content(content_sid, form.get("ContentVariables"))
    if not body and not media and not content_sid:
        raise _bad(21602, "Message body is required.")
    try:
        info = count_segments(body)
    except ValueError:
        raise _bad(21617, "Message body contains characters that cannot be sent") from None
    if info.characters > MAX_BODY_CHARS:
        raise _bad(21617, "The concatenated message body exceeds the 1600 character limit.")
    if len(media) > MAX_MEDIA:
        raise _bad(21623, f"Too many media URLs: at most {MAX_MEDIA} are allowed")
    for url in media:
        if not is_http_url(url):
            raise _bad(21620, f"Media URL {url} is invalid")
    if callback is not None:
        _check_callback_url(callback)
    _check_typed_params(form)
    raw_validity = form.get("ValidityPeriod")
    validity = query_int(raw_validity, "ValidityPeriod", 1, 36000, 0) if raw_validity else None
    send_at = _parse_send_at(form, service_sid)

    to_channel, _ = _check_to(to)
    # Without From, the Messaging Service assigns the sender later: until then Twilio
    # shows ``from`` null (spec examples createWithMessagingService, cancelMessage).
    sender_assigned = bool(from_)
    if from_:
        _check_from(rt, from_, to_channel)
    else:
        from_ = _pick_sender(rt, to_channel)
    if from_ == to:
        raise _bad(21266, "'To' and 'From' number cannot be the same")
    if rt.store.opted_out(to, from_):
        raise _bad(21610, "Attempt to send to unsubscribed recipient")

    whatsapp = to_channel == "whatsapp"
    if smart_encoded and not (whatsapp or media):
        # Smart Encoding is an SMS feature: WhatsApp and MMS carry Unicode as written. The
        # message keeps the text as sent (see docs/emulator.md, "Smart Encoding").
        body = smart_encode(body)
        info = count_segments(body)
    segments = 1 if (whatsapp or media) else info.num_segments
    if send_at is not None:
        status = "scheduled"
        release_at = None
    else:
        slot = rt.queues.enqueue(from_, segments, validity)
        if slot is None and not service_sid:
            raise _bad(
                21611,
                "This 'From' number has exceeded the maximum number of queued messages",
            )
        # Through a Messaging Service, Twilio accepts the message and fails it later
        # with 30001 (queue overflow) instead of answering 21611.
        release_at = slot
        status = "accepted" if service_sid else "queued"

    headers = {name: request.headers[name] for name in INSPECTED_HEADERS if name in request.headers}
    record = MessageRecord(
        sid=new_sid("MM" if media else "SM"),
        account_sid=rt.config.account_sid,
        to=to,
        from_=from_,
        body=body,
        status=status,
        direction="outbound-api",
        num_segments=segments,
        media_urls=media,
        messaging_service_sid=service_sid,
        status_callback=callback,
        send_at=send_at,
        request_headers=headers,
        sender_assigned=sender_assigned,
    )
    data = rt.store.add_message(record)
    rt.start_lifecycle(record.sid, release_at, send_at)
    return JSONResponse(data, status_code=201)


# Read ---------------------------------------------------------------------------------


def _not_found(request: Request) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")


def _media_page(request: Request, record: MessageRecord) -> Response:
    filters, days = _day_filters(request, "DateCreated")
    items = [item for item in record.media_json() if _on_days(record.date_created, days)]
    base = f"/{API_VERSION}/Accounts/{record.account_sid}/Messages/{record.sid}/Media.json"
    return paged_list(request, "media_list", base, items, filters, lambda m: m["sid"], lambda m: m)


def _find(rt: Runtime, request: Request, sid: str) -> MessageRecord:
    record = rt.store.get_message(sid) if _MESSAGE_SID.match(sid) else None
    if record is None or record.account_sid != request.path_params["AccountSid"]:
        raise _not_found(request)
    return record


def _parse_day(value: str) -> date:
    """Read a date filter as Twilio accepts it.

    ``YYYY-MM-DD`` (optionally followed by a time, as the SDKs send datetimes),
    ``MM/DD/YYYY ...`` or RFC 2822 (the formats of the spec's list examples).
    """
    value = value.strip()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        pass
    try:
        return datetime.strptime(value[:10], "%m/%d/%Y").date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).astimezone(timezone.utc).date()
    except (TypeError, ValueError, OverflowError):  # Overflow: the year 1 or 9999 in UTC
        raise _bad(20001, f"Invalid date value {value!r}") from None


def _day_filters(request: Request, name: str) -> tuple[dict[str, str], list[tuple[str, date]]]:
    """Return the ``name``, ``name<``, ``name>`` query filters as received and as dates."""
    query = request.query_params
    received = {name + op: query[name + op] for op in ("", "<", ">") if query.get(name + op)}
    days = [(key[len(name) :] or "=", _parse_day(value)) for key, value in received.items()]
    return received, days


def _on_days(timestamp: float | None, days: list[tuple[str, date]]) -> bool:
    """True if ``timestamp``'s GMT date passes every (op, date) filter.

    ``<`` and ``>`` include the date itself (Twilio's "on and before" / "on and after").
    """
    if not days:
        return True
    if timestamp is None:
        return False
    day = datetime.fromtimestamp(timestamp, timezone.utc).date()
    return all(
        (op == "=" and day == wanted)
        or (op == "<" and day <= wanted)
        or (op == ">" and day >= wanted)
        for op, wanted in days
    )


def _list(rt: Runtime, request: Request) -> Response:
    query = request.query_params
    account = request.path_params["AccountSid"]
    filters = {name: query[name] for name in ("To", "From") if query.get(name)}
    date_filters, days = _day_filters(request, "DateSent")

    def keep(record: MessageRecord) -> bool:
        if record.account_sid != account:
            return False
        if "To" in filters and record.to != filters["To"]:
            return False
        if "From" in filters and (record.from_ != filters["From"] or not record.sender_assigned):
            return False
        return _on_days(record.date_sent, days)

    records = [r for r in reversed(rt.store.messages()) if keep(r)]
    base = f"/{API_VERSION}/Accounts/{account}/Messages.json"
    return paged_list(
        request,
        "messages",
        base,
        records,
        {**filters, **date_filters},
        lambda r: r.sid,
        MessageRecord.to_json,
    )


async def _feedback(rt: Runtime, request: Request, sid: str) -> Response:
    """``POST .../Messages/{MessageSid}/Feedback.json``: record the ``Outcome``.

    ``Outcome`` defaults to ``confirmed`` (the spec's first enum value); the answer is the
    ``api.v2010.account.message.message_feedback`` resource with status 200, as in the spec.
    """
    form = await read_form(request, rt.config.max_body_bytes)
    _find(rt, request, sid)
    outcome = form.get("Outcome") or "confirmed"
    if outcome not in FEEDBACK_OUTCOMES:
        raise _bad(20001, "Outcome must be 'confirmed' or 'unconfirmed'")

    def mutate(record: MessageRecord) -> None:
        record.feedback_outcome = outcome

    snapshot = rt.store.update_message(sid, mutate)
    if snapshot is None:
        raise _not_found(request)
    now = rfc2822()
    return JSONResponse(
        {
            "account_sid": snapshot.account_sid,
            "message_sid": snapshot.sid,
            "outcome": outcome,
            "date_created": now,
            "date_updated": now,
            "uri": f"/{API_VERSION}/Accounts/{snapshot.account_sid}/Messages/{snapshot.sid}"
            "/Feedback.json",
        }
    )


# Update and delete --------------------------------------------------------------------


async def _update(rt: Runtime, request: Request, sid: str) -> Response:
    form = await read_form(request, rt.config.max_body_bytes)
    _find(rt, request, sid)
    status = form.get("Status")
    body = form.get("Body")
    if status is None and body is None:
        raise _bad(20001, "Either Body (to redact) or Status=canceled is required")
    if status is not None and status != "canceled":
        raise _bad(20001, "Status can only be 'canceled'")
    if body is not None and body != "":
        raise _bad(20001, "Body can only be set to an empty string, to redact the message")
    problem: list[TwilioError] = []

    def mutate(record: MessageRecord) -> None:
        if status == "canceled":
            if record.status != "scheduled":
                problem.append(_bad(30409, "This message cannot be canceled"))
                return
            record.status = "canceled"
        if body == "":
            record.body = ""

    snapshot = rt.store.update_message(sid, mutate)
    if problem:
        raise problem[0]
    if snapshot is None:
        raise _not_found(request)
    if status == "canceled":
        # A status change after creation: Twilio posts it to the StatusCallback.
        rt.post_status_callback(snapshot, time.time())
    return JSONResponse(snapshot.to_json())


def _delete(rt: Runtime, request: Request, sid: str) -> Response:
    record = _find(rt, request, sid)
    # "sent" is not final either: Twilio refuses until the carrier's receipt arrives.
    if record.status not in FINAL_STATUSES:
        raise _bad(20009, "Cannot delete message because delivery has not been completed.")
    rt.store.delete_message(sid)
    return Response(status_code=204)
