"""Sender queues at Twilio's rates (21611 past the cap) and the concurrency limit (20429)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from twiliocore.emulator.throughput import SenderQueues, sender_rate

from .spec import assert_twilio_error


@pytest.mark.parametrize(
    ("sender", "rate"),
    [
        ("+14155550100", 1.0),  # US long code
        ("+16135550123", 1.0),  # CA long code
        ("+18005551212", 3.0),  # toll-free
        ("+18885550100", 3.0),
        ("12345", 100.0),  # short code
        ("123456", 100.0),
        ("+447400123456", 10.0),
        ("MyBrand", 10.0),
        ("whatsapp:+14155238886", 80.0),
    ],
)
def test_default_rates(sender, rate):
    assert sender_rate(sender) == rate
    assert sender_rate(sender, 42.0) == 42.0


def test_queue_counts_segments_against_the_cap():
    queues = SenderQueues(cap_seconds=10, mps=1)
    assert queues.enqueue("+14155550100", 4) is not None  # 4 s of traffic
    assert queues.enqueue("+14155550100", 4) is not None  # 8 s
    assert queues.enqueue("+14155550100", 4) is None  # would be 12 s
    assert queues.enqueue("+14155550100", 1) is not None  # 9 s still fits
    assert queues.enqueue("+14155559999", 4) is not None  # other senders are separate
    assert queues.enqueue("+14155550100", 1, validity=5) is None  # ValidityPeriod caps too


def test_messages_beyond_the_rate_wait_queued(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.1))  # one segment per 10 s
    first = api.send().json()["sid"]
    second = api.send().json()["sid"]
    from .test_messages import wait_status

    wait_status(api, first, {"delivered"})
    assert api.fetch(second)["status"] == "queued"  # still 10 s behind the first


def test_queue_cap_gives_21611_and_creates_nothing(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.1, queue_cap_seconds=25))
    assert api.send().status_code == 201  # 10 s of traffic queued
    assert api.send().status_code == 201  # 20 s
    assert_twilio_error(api.send(), 400, 21611)  # 30 s > cap
    assert len(api.emulator.messages()) == 2


def test_multi_segment_messages_count_per_segment(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.1, queue_cap_seconds=25))
    assert_twilio_error(api.send(Body="a" * 400), 400, 21611)  # 3 segments = 30 s
    assert api.send(Body="a" * 300).status_code == 201  # 2 segments = 20 s


def test_validity_period_shortens_the_queue(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.1))
    assert api.send().status_code == 201
    assert_twilio_error(api.send(ValidityPeriod="5"), 400, 21611)
    assert api.send(ValidityPeriod="100").status_code == 201


def test_requests_beyond_max_concurrent_get_429_and_are_not_processed(make_emulator, api_for):
    emulator = make_emulator(max_concurrent=2, faults="slow=1,slow_seconds=0.5")
    api = api_for(emulator)
    import httpx

    def send(_: int) -> httpx.Response:
        with httpx.Client(auth=(emulator.account_sid, emulator.auth_token)) as client:
            return client.post(
                emulator.url + api.messages,
                data={"To": "+14155552671", "From": "+15005550006", "Body": "x"},
            )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))
    created = [r for r in responses if r.status_code == 201]
    limited = [r for r in responses if r.status_code == 429]
    assert len(created) + len(limited) == 8
    assert limited, [r.status_code for r in responses]
    for response in limited:
        assert_twilio_error(response, 429, 20429)
        assert response.headers["Retry-After"] == "1"
    assert len(emulator.messages()) == len(created)


def test_messaging_service_overflow_fails_later_with_30001(make_emulator, api_for):
    api = api_for(make_emulator(mps=0.1, queue_cap_seconds=15))
    params = {"To": "+14155552671", "MessagingServiceSid": "MG" + "d" * 32, "Body": "x"}
    assert api.http.post(api.messages, data=params).status_code == 201
    overflow = api.http.post(api.messages, data=params)
    assert overflow.status_code == 201
    assert overflow.json()["status"] == "accepted"
    from .test_messages import wait_status

    data = wait_status(api, overflow.json()["sid"], {"failed"})
    assert data["error_code"] == 30001
