"""The shared resource base: a base URL per domain, page URLs kept on the client's domains,
and a resource of another domain and version declared in a few lines (as a new Twilio
product's module would be), over real HTTP against the loopback fake."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from twiliocore import Client, TwilioRestError
from twiliocore.rest.base import (
    CreatableList,
    FetchableInstance,
    MutableContext,
    ReadableList,
    params,
)
from twiliocore.rest.domains import DOMAINS

from .fake_twilio import ACCOUNT, TOKEN, FakeTwilio, Request


# A Conversations v1 resource, declared as rest/conversations/v1/conversation.py would be.
class ConversationInstance(FetchableInstance):
    _version = "v1"

    sid: str | None
    friendly_name: str | None
    state: str | None
    date_created: dt.datetime | None
    url: str | None


class ConversationContext(MutableContext[ConversationInstance]):
    _domain, _version, _path = "conversations", "v1", "/Conversations/{sid}"
    _instance = ConversationInstance
    _update = params("friendly_name", "state")


ConversationInstance._context = ConversationContext


class ConversationList(
    ReadableList[ConversationInstance, ConversationContext],
    CreatableList[ConversationInstance, ConversationContext],
):
    _domain, _version, _path = "conversations", "v1", "/Conversations"
    _key = "conversations"  # meta.key names it too
    _instance = ConversationInstance
    _context = ConversationContext
    _filters = params("start_date", "end_date", "state")
    _create = params("friendly_name", "unique_name", "state")


def conversation(sid: str, name: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "friendly_name": name,
        "state": "active",
        "date_created": "2026-12-06T10:00:00Z",
        "url": f"https://conversations.twilio.com/v1/Conversations/{sid}",
    }


SIDS = [f"CH{n:032x}" for n in range(3)]


def _page(fake: FakeTwilio, req: Request, m: re.Match[str]) -> tuple[int, dict[str, Any]]:
    page = int(dict(req.query).get("Page", "0"))
    base = f"{fake.url}/conversations/v1/Conversations?PageSize=1"
    nxt = f"{base}&Page={page + 1}&PageToken=PT{page + 1}" if page < 2 else None
    if dict(req.query).get("State") == "leak":
        nxt = "http://127.0.0.2:9/conversations/v1/Conversations?Page=1"
    return 200, {
        "conversations": [conversation(SIDS[page], f"Room {page}")],
        "meta": {
            "page": page,
            "page_size": 1,
            "first_page_url": f"{base}&Page=0",
            "previous_page_url": f"{base}&Page={page - 1}" if page else None,
            "url": f"{base}&Page={page}",
            "next_page_url": nxt,
            "key": "conversations",
        },
    }


def _one(fake: FakeTwilio, req: Request, m: re.Match[str]) -> tuple[int, dict[str, Any]]:
    if m.group(1) not in SIDS:
        return 404, {"code": 20404, "message": "Not found", "more_info": "", "status": 404}
    record = conversation(m.group(1), "Room")
    record.update({k.lower().replace("friendlyname", "friendly_name"): v for k, v in req.form})
    return 200, record


@pytest.fixture
def conversations(fake: FakeTwilio, client: Client) -> ConversationList:
    fake.routes += [
        ("GET", r"/conversations/v1/Conversations", _page),
        ("GET|POST", r"/conversations/v1/Conversations/(\w+)", _one),
    ]
    return ConversationList(client)


def test_base_url_per_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    with Client(ACCOUNT, TOKEN) as client:
        assert client.base_urls == DOMAINS
        assert client.base_urls["conversations"] == "https://conversations.twilio.com"
        assert client.base_url == "https://api.twilio.com"
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8081/")
    with Client(ACCOUNT, TOKEN, base_urls={"lookups": "https://lookups.example.com/"}) as client:
        assert client.base_urls == {
            "api": "http://127.0.0.1:8081",  # today's emulator URLs, unchanged
            "conversations": "http://127.0.0.1:8081/conversations",
            "messaging": "http://127.0.0.1:8081/messaging",
            "lookups": "https://lookups.example.com",
        }
    with pytest.raises(ValueError, match="base_urls: unknown domain 'video'"):
        Client(ACCOUNT, TOKEN, base_urls={"video": "https://video.twilio.com"})
    with pytest.raises(ValueError, match=r"base_urls\['api'\]: must be an http"):
        Client(ACCOUNT, TOKEN, base_urls={"api": "ftp://x"})
    with pytest.raises(ValueError, match="base_url: must be an http"):
        Client(ACCOUNT, TOKEN, base_url="127.0.0.1:8081")


def test_another_domain_under_the_root_prefix_with_meta_paging(
    fake: FakeTwilio, conversations: ConversationList
) -> None:
    listed = conversations.list(state="active", page_size=1)
    assert [c.sid for c in listed] == SIDS
    assert [(r.path, r.query) for r in fake.requests] == [
        ("/conversations/v1/Conversations", [("State", "active"), ("PageSize", "1")]),
        (
            "/conversations/v1/Conversations",
            [("PageSize", "1"), ("Page", "1"), ("PageToken", "PT1")],
        ),
        (
            "/conversations/v1/Conversations",
            [("PageSize", "1"), ("Page", "2"), ("PageToken", "PT2")],
        ),
    ]
    first = listed[0]
    assert first.date_created == dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
    assert first.friendly_name == "Room 0"
    page = conversations.page(page_size=1)
    assert page.previous_page_url is None
    assert (
        page.next_page_url
        == f"{fake.url}/conversations/v1/Conversations?PageSize=1&Page=1&PageToken=PT1"
    )
    second = conversations.get_page(page.next_page_url)
    assert [c.sid for c in second] == [SIDS[1]]
    assert [c.sid for c in second.previous_page() or []] == [SIDS[0]]
    updated = conversations(SIDS[1]).update(friendly_name="Renamed")
    assert fake.requests[-1].form == [("FriendlyName", "Renamed")]
    assert updated.friendly_name == "Renamed" and updated.fetch().sid == SIDS[1]
    with pytest.raises(TwilioRestError) as info:
        conversations("CH" + "f" * 32).fetch()
    assert info.value.uri == "/Conversations/CH" + "f" * 32  # relative to the version


def test_page_urls_are_accepted_on_every_domain_and_refused_elsewhere(
    fake: FakeTwilio, client: Client, conversations: ConversationList
) -> None:
    # A page URL of another of the client's domains is accepted (and sent with its auth).
    on_conversations = f"{fake.url}/conversations/v1/Conversations?PageSize=1&Page=2"
    assert [c.sid for c in conversations.get_page(on_conversations)] == [SIDS[2]]
    for foreign in ("https://api.example.com/2010-04-01/Accounts.json", "/v1/Conversations", 3):
        with pytest.raises(ValueError, match="target_url: must be a page URL on one of") as info:
            conversations.get_page(foreign)  # type: ignore[arg-type]
        assert f"conversations {fake.url}/conversations" in str(info.value)
    # A next page Twilio would point elsewhere is refused before any request goes out.
    page = conversations.page(state="leak")
    sent = len(fake.requests)
    with pytest.raises(ValueError, match="target_url"):
        page.next_page()
    assert len(fake.requests) == sent


def test_arguments_bind_as_a_signature_would(client: Client, fake: FakeTwilio) -> None:
    numbers = client.incoming_phone_numbers
    numbers.page(False, "Main", page_size=5)  # positional in the spec's order
    assert fake.requests[-1].query == [
        ("Beta", "false"),
        ("FriendlyName", "Main"),
        ("PageSize", "5"),
    ]
    with pytest.raises(TypeError, match="multiple values for argument 'beta'"):
        numbers.page(False, beta=True)
    with pytest.raises(TypeError, match="page\\(\\) takes 7 arguments, 8 were given"):
        numbers.page(*range(8))
    with pytest.raises(ValueError, match=r"page_size: must be 0\.\.1000"):
        numbers.list(page_size=1001)
    with pytest.raises(ValueError, match="sid: must be a non-empty str"):
        numbers("")
    with pytest.raises(TypeError, match="records have no context"):
        client.available_phone_numbers("US").local("+14155550101")
