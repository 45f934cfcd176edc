"""twiliocore.Client over real HTTP against the Twilio emulator (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from twiliocore import Client, errors
from twiliocore.client import serialize

SENDER = "+15005550006"
RECIPIENT = "+14155552671"


FINAL = ("delivered", "undelivered", "failed", "read")


def wait_final(client: Client, sid: str) -> None:
    """Wait until the emulator finished delivering (Twilio refuses to delete before)."""
    deadline = time.monotonic() + 10
    while client.messages(sid).fetch().status not in FINAL:
        assert time.monotonic() < deadline, "message never reached a final status"
        time.sleep(0.02)


@pytest.fixture
def client(fresh_emulator: Any) -> Any:
    c = Client(fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=fresh_emulator.url)
    yield c
    c.close()


def test_create_returns_message_instance_with_fields(
    client: Client, fresh_emulator: Any, webhook_receiver: Any
) -> None:
    body = "Grüße & 1+1=2 ✓ ?x=y"
    message = client.messages.create(
        to=RECIPIENT,
        from_=SENDER,
        body=body,
        media_url=["https://example.com/a.png?x=1&y=2", "https://example.com/b.png"],
        status_callback=webhook_receiver.url + "/status",
        validity_period=600,
    )
    assert message.sid.startswith("MM")
    assert message.status == "queued"
    assert message.to == RECIPIENT
    assert message.from_ == SENDER
    assert message.body == body
    assert message.num_media == "2"
    assert message.num_segments == "1"
    assert message.direction == "outbound-api"
    assert message.account_sid == fresh_emulator.account_sid
    assert message.api_version == "2010-04-01"
    assert isinstance(message.date_created, dt.datetime)
    assert message.date_created.tzinfo is not None
    assert message.uri.endswith(f"/Messages/{message.sid}.json")
    assert "media" in message.subresource_uris
    record = fresh_emulator.message(message.sid)
    assert record.body == body
    assert record.media_urls == ["https://example.com/a.png?x=1&y=2", "https://example.com/b.png"]
    assert record.status_callback == webhook_receiver.url + "/status"
    assert record.request_headers["user-agent"].startswith("twiliocore/")


def test_fetch_update_delete(client: Client) -> None:
    sid = client.messages.create(to=RECIPIENT, from_=SENDER, body="secret text").sid
    fetched = client.messages(sid).fetch()
    assert fetched.sid == sid
    assert fetched.body == "secret text"
    wait_final(client, sid)
    redacted = client.messages(sid).update(body="")
    assert redacted.body == ""
    assert client.messages(sid).delete() is True
    with pytest.raises(errors.TwilioRestError) as info:
        client.messages(sid).fetch()
    assert info.value.status == 404
    assert info.value.code == 20404
    assert info.value.method == "GET"
    assert sid in info.value.uri


def test_update_rejects_other_status(client: Client) -> None:
    with pytest.raises(ValueError, match="status"):
        client.messages("SM123").update(status="delivered")


def test_list_pages_and_limits(client: Client) -> None:
    sids = {client.messages.create(to=RECIPIENT, from_=SENDER, body=f"m{i}").sid for i in range(5)}
    client.messages.create(to="+14155552672", from_=SENDER, body="other")
    listed = client.messages.list(to=RECIPIENT, page_size=2)
    assert {m.sid for m in listed} == sids
    assert len(client.messages.list(limit=3)) == 3
    streamed = list(client.messages.stream(to=RECIPIENT, limit=4, page_size=3))
    assert len(streamed) == 4
    # date_sent is set when the emulator sends a message: wait for all five (a loaded machine
    # may still hold some in the queue), then the filter must find exactly them.
    deadline = time.monotonic() + 20
    while any(client.messages(sid).fetch().date_sent is None for sid in sids):
        assert time.monotonic() < deadline, "the emulator never sent the messages"
        time.sleep(0.05)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert {m.sid for m in client.messages.list(to=RECIPIENT, date_sent=today)} == sids


def test_twilio_python_paths_to_the_account_and_its_messages(
    client: Client, fresh_emulator: Any
) -> None:
    # twilio-python code reaches messages through the account as well.
    sent = client.api.account.messages.create(to=RECIPIENT, from_=SENDER, body="via account")
    via_sid = client.api.accounts(fresh_emulator.account_sid).messages(sent.sid).fetch()
    assert via_sid.body == "via account"
    assert client.api.v2010.account.fetch().sid == fresh_emulator.account_sid
    assert [m.sid for m in client.api.v2010.account.messages.list()] == [sent.sid]
    with pytest.raises(ValueError, match="account_sid="):
        client.api.accounts("AC" + "1" * 32).messages  # noqa: B018


def test_media_subresource(client: Client) -> None:
    urls = ["https://example.com/a.png", "https://example.com/b.gif", "https://example.com/c.jpg"]
    message = client.messages.create(to=RECIPIENT, from_=SENDER, media_url=urls)
    media = client.messages(message.sid).media
    listed = media.list(page_size=2)  # two pages
    assert [m.content_type for m in listed] == ["image/png", "image/gif", "image/jpeg"]
    assert all(m.parent_sid == message.sid and m.sid.startswith("ME") for m in listed)
    assert isinstance(listed[0].date_created, dt.datetime)
    assert [m.sid for m in message.media.stream(limit=1)] == [listed[0].sid]
    today = dt.datetime.now(dt.timezone.utc).date()
    assert len(media.list(date_created=today)) == 3
    assert media.list(date_created_after=today + dt.timedelta(days=1)) == []
    assert media(listed[1].sid).fetch().content_type == "image/gif"
    assert listed[1].delete() is True
    assert [m.sid for m in media.list()] == [listed[0].sid, listed[2].sid]
    with pytest.raises(errors.TwilioRestError) as info:
        media.get(listed[1].sid).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)

    async def main() -> None:
        assert len(await media.list_async(limit=1)) == 1
        assert (await media(listed[0].sid).fetch_async()).sid == listed[0].sid
        assert await media(listed[0].sid).delete_async() is True

    asyncio.run(main())
    assert [m.sid for m in media.list()] == [listed[2].sid]


def test_account_fetch_hides_token(client: Client, fresh_emulator: Any) -> None:
    account = client.api.accounts(fresh_emulator.account_sid).fetch()
    assert account.sid == fresh_emulator.account_sid
    assert account.status == "active"
    assert "auth_token" not in account.to_dict()
    assert fresh_emulator.auth_token not in repr(account)
    assert client.api.account.fetch().sid == account.sid


def test_twilio_error_fields(client: Client) -> None:
    with pytest.raises(errors.TwilioRestError) as info:
        client.messages.create(to="+15005550001", from_=SENDER, body="x")
    exc = info.value
    assert exc.status == 400
    assert exc.code == 21211
    assert "not a valid phone number" in exc.msg
    assert exc.more_info == "https://www.twilio.com/docs/errors/21211"
    assert exc.method == "POST"
    assert exc.details is None  # Twilio's body has no "details" member for this error


def test_wrong_token_is_401(fresh_emulator: Any) -> None:
    with Client(fresh_emulator.account_sid, "wrong-token", base_url=fresh_emulator.url) as c:
        with pytest.raises(errors.TwilioRestError) as info:
            c.messages.create(to=RECIPIENT, from_=SENDER, body="x")
    assert info.value.status == 401
    assert info.value.code == 20003
    assert "wrong-token" not in str(info.value)


def test_missing_fields_name_the_field(client: Client) -> None:
    with pytest.raises(ValueError, match="From"):
        client.messages.create(to=RECIPIENT, body="x")
    with pytest.raises(ValueError, match="MediaUrl"):
        client.messages.create(to=RECIPIENT, from_=SENDER, media_url=["https://x/y.png"] * 11)
    with pytest.raises(TypeError, match="colour"):
        client.messages.create(to=RECIPIENT, from_=SENDER, body="x", colour="red")


def test_async_twins(client: Client) -> None:
    async def main() -> None:
        created = await asyncio.gather(
            *(
                client.messages.create_async(to=RECIPIENT, from_=SENDER, body=f"a{i}")
                for i in range(10)
            )
        )
        assert len({m.sid for m in created}) == 10
        fetched = await client.messages(created[0].sid).fetch_async()
        assert fetched.body == "a0"
        for message in created[:2]:
            await asyncio.to_thread(wait_final, client, message.sid)
        assert (await client.messages(created[0].sid).update_async(body="")).body == ""
        listed = await client.messages.list_async(to=RECIPIENT, page_size=3)
        assert len(listed) == 10
        assert await client.messages(created[1].sid).delete_async() is True
        account = await client.api.account.fetch_async()
        assert account.sid == client.account_sid
        with pytest.raises(errors.TwilioRestError):
            await client.messages.create_async(to="+15005550001", from_=SENDER, body="x")

    asyncio.run(main())


def test_environment_fallback_and_missing_credentials(
    fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(errors.ConfigurationError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        Client()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fresh_emulator.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fresh_emulator.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fresh_emulator.url)
    with Client() as c:
        assert c.base_url == fresh_emulator.url
        assert c.messages.create(to=RECIPIENT, from_=SENDER, body="env").status == "queued"
        assert fresh_emulator.auth_token not in repr(c)
        assert fresh_emulator.auth_token not in repr(c._core)


def test_shared_engine_reuses_connections(fresh_emulator: Any) -> None:
    first = Client(
        fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=fresh_emulator.url
    )
    second = Client(
        fresh_emulator.account_sid,
        fresh_emulator.auth_token,
        base_url=fresh_emulator.url,
        engine=first.engine,
    )
    for c in (first, second, first, second):
        c.messages.create(to=RECIPIENT, from_=SENDER, body="warm")
    assert first.engine.stats()["connections_opened"] == 1
    second.close()  # a shared engine is not stopped by its borrower
    assert first.engine.running
    first.close()
    assert not first.engine.running


def test_transport_error_when_nothing_listens() -> None:
    with Client("AC" + "0" * 32, "tok", base_url="http://127.0.0.1:1") as c:
        with pytest.raises(errors.TransportError) as info:
            c.messages("SM1").fetch()
    assert info.value.stage == "connect"


def test_serialize_like_twilio_python() -> None:
    assert serialize(True) == ["true"]
    assert serialize(False) == ["false"]
    assert serialize(dt.datetime(2024, 5, 1, 12, 30, 5)) == ["2024-05-01T12:30:05Z"]
    # An aware datetime means its instant: sent as that instant in UTC.
    paris = dt.timezone(dt.timedelta(hours=2))
    assert serialize(dt.datetime(2024, 5, 1, 12, 30, 5, tzinfo=paris)) == ["2024-05-01T10:30:05Z"]
    assert serialize(dt.datetime(2024, 5, 1, 12, 30, 5, tzinfo=dt.UTC)) == ["2024-05-01T12:30:05Z"]
    assert serialize(dt.date(2024, 5, 1)) == ["2024-05-01"]
    assert serialize(["a", "b"]) == ["a", "b"]
    assert serialize({"1": "x"}) == ['{"1": "x"}']
    assert serialize(None) == []
    assert serialize(3) == ["3"]


def test_date_filters_are_gmt_dates() -> None:
    from twiliocore.client import _date_param

    new_york = dt.timezone(dt.timedelta(hours=-5))
    # 23:00 in New York on 1 May is 04:00 GMT on 2 May: Twilio's filters are GMT dates.
    assert _date_param(dt.datetime(2024, 5, 1, 23, 0, tzinfo=new_york), "d") == "2024-05-02"
    assert _date_param(dt.datetime(2024, 5, 1, 23, 0), "d") == "2024-05-01"
    assert _date_param(dt.date(2024, 5, 1), "d") == "2024-05-01"
    assert _date_param("2024-05-01", "d") == "2024-05-01"
    with pytest.raises(TypeError, match="d: expected date"):
        _date_param(20240501, "d")  # type: ignore[arg-type]


def test_bulk_send_runs_on_the_client_engine(client: Client, fresh_emulator: Any) -> None:
    job = client.bulk_send(
        ["+14155552671", "+14155552672", "(415) 555-2673"], "bulk", from_=SENDER, window=2
    )
    summary = job.wait(timeout=30)
    assert summary["sent"] == 3
    assert sorted(m["to"] for m in fresh_emulator.messages()) == [
        "+14155552671",
        "+14155552672",
        "+14155552673",
    ]


def test_dropping_a_client_stops_its_engine_without_gc(fresh_emulator: Any) -> None:
    import gc
    import weakref

    gc.disable()
    try:
        c = Client(
            fresh_emulator.account_sid, fresh_emulator.auth_token, base_url=fresh_emulator.url
        )
        c.messages.create(to=RECIPIENT, from_=SENDER, body="x")
        engine_ref = weakref.ref(c.engine)
        del c
        assert engine_ref() is None  # freed by reference counting: no cycle keeps it
    finally:
        gc.enable()
