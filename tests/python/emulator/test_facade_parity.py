"""twiliocore's Client and twilio-python's, side by side on one emulator: same observations.

Each test makes the same calls through the official SDK and through the facade and compares
what a program sees: page contents, page URLs, exceptions' msg/uri/code/status/str.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from twiliocore import Client, TwilioException, TwilioRestException

twilio_rest = pytest.importorskip("twilio.rest")
from twilio.base.exceptions import TwilioException as SdkException  # noqa: E402
from twilio.base.exceptions import TwilioRestException as SdkRestException  # noqa: E402

TO = "+14155552671"
FROM = "+15005550006"
MISSING_SMS = "SM" + "0" * 32
MISSING_MEDIA = "ME" + "0" * 32


@pytest.fixture
def sdk(fresh_emulator: Any) -> Any:
    client = twilio_rest.Client(fresh_emulator.account_sid, fresh_emulator.auth_token)
    client.api.base_url = fresh_emulator.url
    return client


@pytest.fixture
def ours(fresh_emulator: Any) -> Iterator[Client]:
    with Client(
        fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=fresh_emulator.url
    ) as client:
        yield client


def sids(page: Any) -> list[str]:
    return [record.sid for record in page]


def walk(page: Any, step: str) -> list[tuple[list[str], str | None, str | None]]:
    """Every page from ``page`` on, following ``step`` (next_page or previous_page)."""
    seen = []
    while page is not None:
        seen.append((sids(page), page.next_page_url, page.previous_page_url))
        page = getattr(page, step)()
    return seen


def send(sdk: Any, count: int) -> list[str]:
    return [sdk.messages.create(to=TO, from_=FROM, body=f"m{i}").sid for i in range(count)]


def test_message_pages_match_twilio_python(sdk: Any, ours: Client) -> None:
    send(sdk, 5)
    theirs_first, ours_first = sdk.messages.page(page_size=2), ours.messages.page(page_size=2)
    assert ours_first.next_page_url == theirs_first.next_page_url is not None
    assert ours_first.previous_page_url is theirs_first.previous_page_url is None
    forward = walk(ours_first, "next_page")
    assert forward == walk(theirs_first, "next_page")
    assert [len(page[0]) for page in forward] == [2, 2, 1]
    assert forward[-1][1] is None  # the last page has no next page
    # Back from the last page, through get_page on its URL.
    last_url = forward[1][1]
    assert walk(ours.messages.get_page(last_url), "previous_page") == walk(
        sdk.messages.get_page(last_url), "previous_page"
    )
    # A page from a token and a number, as a program keeps them between requests.
    token = last_url.split("PageToken=")[1]
    assert sids(ours.messages.page(page_size=2, page_number=2, page_token=token)) == sids(
        sdk.messages.page(page_size=2, page_number=2, page_token=token)
    )
    # Filters, and a page iterated once as twilio-python's Page is (an iterator).
    for client in (sdk, ours):
        page = client.messages.page(to=TO, from_=FROM, page_size=3)
        assert iter(page) is page and len(list(page)) == 3 and list(page) == []
    assert repr(ours_first) == "<twiliocore.MessagePage>"


def test_media_pages_match_twilio_python(sdk: Any, ours: Client) -> None:
    urls = [f"https://example.com/{n}.png" for n in range(3)]
    sid = sdk.messages.create(to=TO, from_=FROM, media_url=urls).sid
    theirs, mine = sdk.messages(sid).media, ours.messages(sid).media
    forward = walk(mine.page(page_size=2), "next_page")
    assert forward == walk(theirs.page(page_size=2), "next_page")
    assert [len(page[0]) for page in forward] == [2, 1]
    url = forward[0][1]
    assert walk(mine.get_page(url), "previous_page") == walk(theirs.get_page(url), "previous_page")
    assert [m.sid for m in mine.list(limit=0)] == [m.sid for m in theirs.list(limit=0)]
    assert len(mine.list(limit=0)) == 3


def test_async_pages_match_twilio_python(sdk: Any, ours: Client) -> None:
    send(sdk, 3)
    expected = walk(sdk.messages.page(page_size=2), "next_page")

    async def scenario() -> list[tuple[list[str], str | None, str | None]]:
        seen = []
        page = await ours.messages.page_async(page_size=2)
        while page is not None:
            seen.append((sids(page), page.next_page_url, page.previous_page_url))
            page = await page.next_page_async()
        last = await ours.messages.get_page_async(expected[1][2] or "")
        assert sids(last) == expected[0][0]
        assert await last.previous_page_async() is None
        return seen

    assert asyncio.run(scenario()) == expected


@pytest.mark.parametrize(
    ("limit", "page_size"), [(0, None), (None, 0), (0, 0), (3, 0), (0, 2), (None, "2")]
)
def test_zero_limit_and_page_size_mean_unset_as_in_twilio_python(
    sdk: Any, ours: Client, limit: Any, page_size: Any
) -> None:
    send(sdk, 5)
    expected = [m.sid for m in sdk.messages.list(limit=limit, page_size=page_size)]
    assert len(expected) == (limit or 5)
    assert [m.sid for m in ours.messages.list(limit=limit, page_size=page_size)] == expected
    assert [m.sid for m in ours.messages.stream(limit=limit, page_size=page_size)] == expected

    async def streamed() -> list[str]:
        return [m.sid async for m in ours.messages.stream_async(limit=limit, page_size=page_size)]

    assert asyncio.run(streamed()) == expected


def non_tty_str(exc: BaseException) -> str:
    """str(exc) as a program writing to a file or a pipe sees it (twilio-python colours TTYs)."""
    saved, sys.stderr = sys.stderr, io.StringIO()
    try:
        return str(exc)
    finally:
        sys.stderr = saved


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def raised(call: Callable[[], object], kind: type[BaseException]) -> Any:
    with pytest.raises(kind) as info:
        call()
    return info.value


CALLS: dict[str, Callable[[Any, Any], object]] = {
    "create": lambda c, _: c.messages.create(to="+15005550001", from_=FROM, body="x"),
    "create, no sender": lambda c, _: c.messages.create(to=TO, from_="+15005550001", body="x"),
    "fetch": lambda c, _: c.messages(MISSING_SMS).fetch(),
    "update": lambda c, _: c.messages(MISSING_SMS).update(body=""),
    "delete": lambda c, _: c.messages(MISSING_SMS).delete(),
    "media fetch": lambda c, _: c.messages(MISSING_SMS).media(MISSING_MEDIA).fetch(),
    "media delete": lambda c, _: c.messages(MISSING_SMS).media.get(MISSING_MEDIA).delete(),
    "account fetch": lambda c, _: c.api.accounts("AC" + "1" * 32).fetch(),
    "feedback create": lambda c, _: c.messages(MISSING_SMS).feedback.create(outcome="confirmed"),
}


@pytest.mark.parametrize("name", CALLS)
def test_rest_errors_match_twilio_python(sdk: Any, ours: Client, name: str) -> None:
    call = CALLS[name]
    theirs = raised(lambda: call(sdk, None), SdkRestException)
    mine = raised(lambda: call(ours, None), TwilioRestException)
    assert mine.msg.startswith("Unable to ")
    fields = ("msg", "uri", "status", "code", "method", "details")
    assert {f: getattr(mine, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert mine.args == theirs.args
    assert non_tty_str(mine) == non_tty_str(theirs) == f"HTTP {mine.status} error: {mine.msg}"
    saved, sys.stderr = sys.stderr, FakeTty()
    try:
        assert str(mine) == non_tty_str(theirs)  # never coloured: logs stay plain text
    finally:
        sys.stderr = saved
    # twiliocore's additions: Twilio's message alone, the full URL, the documentation link.
    assert mine.msg.endswith(": " + mine.message)
    assert mine.url.startswith(ours.base_url + "/2010-04-01" + mine.uri)
    assert mine.more_info == f"https://www.twilio.com/docs/errors/{mine.code}"


def test_async_rest_errors_match_twilio_python(sdk: Any, ours: Client) -> None:
    theirs = raised(lambda: CALLS["fetch"](sdk, None), SdkRestException)

    async def scenario() -> TwilioRestException:
        with pytest.raises(TwilioRestException) as info:
            await ours.messages(MISSING_SMS).fetch_async()
        return info.value

    mine = asyncio.run(scenario())
    assert (mine.msg, mine.uri, mine.code, mine.args) == (
        theirs.msg,
        theirs.uri,
        theirs.code,
        theirs.args,
    )


def test_a_page_that_cannot_be_fetched_is_a_twilio_exception_in_both(
    sdk: Any, ours: Client, fresh_emulator: Any
) -> None:
    # twilio-python raises TwilioException("Unable to fetch page", response) for any page;
    # twiliocore a TwilioRestError (a TwilioException) with the same words and the answer's.
    other = f"{fresh_emulator.url}/2010-04-01/Accounts/AC{'2' * 32}/Messages.json"
    theirs = raised(lambda: sdk.messages.get_page(other), SdkException)
    mine = raised(lambda: ours.messages.get_page(other), TwilioException)
    assert isinstance(mine, TwilioRestException)
    response = theirs.args[1]
    assert mine.msg == f"{theirs.args[0]}: {json.loads(response.text)['message']}"
    assert (mine.status, mine.uri) == (
        response.status_code,
        f"/Accounts/AC{'2' * 32}/Messages.json",
    )
    media = raised(lambda: ours.messages(MISSING_SMS).media.list(), TwilioRestException)
    assert media.msg.startswith("Unable to fetch page: ") and media.code == 20404
    with pytest.raises(ValueError, match="target_url"):
        ours.messages.get_page("https://api.example.com/2010-04-01/Accounts.json")


def test_an_answer_without_twilio_error_json_is_worded_as_twilio_python(
    webhook_receiver: Any, fresh_emulator: Any
) -> None:
    webhook_receiver.default_status = 502
    webhook_receiver.response_body = b"<html><body>Bad Gateway</body></html>"
    webhook_receiver.content_type = "text/html"
    sdk = twilio_rest.Client(fresh_emulator.account_sid, fresh_emulator.auth_token)
    sdk.api.base_url = webhook_receiver.url
    theirs = raised(lambda: sdk.messages(MISSING_SMS).fetch(), SdkRestException)
    with Client(
        fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=webhook_receiver.url
    ) as ours:
        mine = raised(lambda: ours.messages(MISSING_SMS).fetch(), TwilioRestException)
    assert (mine.msg, mine.uri, mine.code, mine.status) == (
        "Unable to fetch record",
        theirs.uri,
        theirs.code,
        502,
    )
    assert theirs.msg == mine.msg
    assert "Bad Gateway" in mine.message  # what the answer said is kept


def test_wrong_token_stays_out_of_every_field(fresh_emulator: Any) -> None:
    token = "f" * 32
    with Client(fresh_emulator.account_sid, token, base_url=fresh_emulator.url) as client:
        exc = raised(lambda: client.messages.create(to=TO, from_=FROM, body="x"), TwilioException)
        page_exc = raised(lambda: client.messages.page(), TwilioException)
    for error in (exc, page_exc):
        assert error.status == 401
        text = " ".join(
            str(v) for v in (error, repr(error), error.msg, error.uri, error.url, error.args)
        )
        assert token not in text and fresh_emulator.auth_token not in text


def test_integer_parameters_are_sent_as_twilio_python_sends_them(
    webhook_receiver: Any, fresh_emulator: Any
) -> None:
    webhook_receiver.default_status = 201
    webhook_receiver.response_body = json.dumps({"sid": "SM" + "1" * 32}).encode()
    webhook_receiver.content_type = "application/json"
    sdk = twilio_rest.Client(fresh_emulator.account_sid, fresh_emulator.auth_token)
    sdk.api.base_url = webhook_receiver.url
    for value in ("600", 600):
        sdk.messages.create(to=TO, from_=FROM, body="x", validity_period=value, attempt="2")
    with Client(
        fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=webhook_receiver.url
    ) as ours:
        for value in ("600", 600):
            ours.messages.create(to=TO, from_=FROM, body="x", validity_period=value, attempt="2")
        sent = [request.form for request in webhook_receiver.requests]
        assert sent[2:] == sent[:2]
        assert [(f["ValidityPeriod"], f["Attempt"]) for f in sent] == [("600", "2")] * 4
        # What twilio-python would send for Twilio to refuse is refused here, naming it.
        for bad, kind in (("ten", ValueError), ("1.5", ValueError), (1.5, TypeError)):
            with pytest.raises(kind, match="validity_period"):
                ours.messages.create(to=TO, from_=FROM, body="x", validity_period=bad)
        for bad, kind in ((True, TypeError), ("0", ValueError), (10**12, ValueError)):
            with pytest.raises(kind, match="validity_period"):
                ours.messages.create(to=TO, from_=FROM, body="x", validity_period=bad)
        with pytest.raises(ValueError, match="attempt"):
            ours.messages.create(to=TO, from_=FROM, body="x", attempt="twice")
        with pytest.raises(ValueError, match="page_size"):
            ours.messages.list(page_size="many")
        with pytest.raises(ValueError, match="limit"):
            ours.messages.list(limit=-1)
    assert len(webhook_receiver.requests) == 4


def test_feedback_matches_twilio_python(sdk: Any, ours: Client, fresh_emulator: Any) -> None:
    code = "Your code is 123456"
    sid = sdk.messages.create(to=TO, from_=FROM, body=code, provide_feedback=True).sid
    theirs = sdk.messages(sid).feedback.create(outcome="unconfirmed")
    mine = ours.messages(sid).feedback.create(outcome="unconfirmed")
    fields = ("account_sid", "message_sid", "outcome", "uri")
    assert {f: getattr(mine, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert (mine.message_sid, mine.outcome) == (sid, "unconfirmed")
    assert mine.date_created is not None and mine.date_created.tzinfo is not None
    # The default outcome, the instance's path and the awaitable twin.
    assert ours.messages.get(sid).fetch().feedback.create().outcome == "confirmed"
    assert asyncio.run(ours.messages(sid).feedback.create_async("unconfirmed")).outcome == (
        "unconfirmed"
    )
    recorded = httpx.get(fresh_emulator.url + "/_emulator/messages").json()["messages"]
    assert [m["feedback_outcome"] for m in recorded if m["sid"] == sid] == ["unconfirmed"]
    # A value Twilio would refuse (20001) is refused before sending, naming the parameter.
    with pytest.raises(ValueError, match="outcome"):
        ours.messages(sid).feedback.create(outcome="yes")
