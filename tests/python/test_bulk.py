"""Bulk fan-out against the Twilio emulator: exactly-once under faults, permanent failures,
pacing, cancellation, callbacks, streaming and the SMSService contract."""

from __future__ import annotations

import collections
import sys
import threading
import time
from typing import Any

import pytest
from twiliocore import Client, SMSService
from twiliocore.bulk import BulkJob, start_bulk_job

SENDER = "+15005550006"
WHATSAPP_SENDER = "+14155238886"

pytestmark = pytest.mark.timeout(120)


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"+1415{2000000 + i:07d}" for i in range(start, start + n)]


def client_for(emulator: Any) -> Client:
    return Client(emulator.account_sid, emulator.auth_token, base_url=emulator.url)


def created_per_recipient(emulator: Any) -> collections.Counter[str]:
    return collections.Counter(
        m["to"] for m in emulator.messages() if m["direction"] == "outbound-api"
    )


def test_every_valid_recipient_is_sent_exactly_once_with_every_fault_on(
    make_emulator: Any,
) -> None:
    emulator = make_emulator(
        seed=1234,
        max_concurrent=24,  # 429s from the concurrency limit too (window is 64)
        faults={"429": 0.05, "500": 0.03, "503": 0.03, "drop": 0.03, "drop_after": 0.05},
    )
    valid = numbers(120)
    recipients = [
        *valid,
        "not a number",
        "123",
        valid[0],
        f"({valid[1][2:5]}) {valid[1][5:8]}-{valid[1][8:]}",
    ]
    results: list[dict[str, Any]] = []
    with client_for(emulator) as client:
        job = start_bulk_job(
            client._core,
            recipients,
            "Exactly once, whatever happens",
            from_=SENDER,
            on_result=results.append,
            reconcile_delays=(0.2, 0.5, 1.0, 2.0, 3.0),
        )
        summary = job.wait(timeout=100)
    created = created_per_recipient(emulator)
    # The emulator's own record: each valid recipient created once, nothing else created.
    missing = set(valid) - set(created)
    assert not missing, [(r["to"], r["status"], r["error"]) for r in results if r["to"] in missing]
    assert set(created) == set(valid)
    assert all(count == 1 for count in created.values()), created.most_common(3)
    assert summary["total"] == len(recipients)
    assert summary["sent"] == len(valid)
    assert summary["invalid"] == 2
    assert summary["duplicates"] == 2
    assert summary["failed"] == summary["unknown"] == summary["cancelled"] == 0
    assert summary["retries"] > 0  # the faults were met, and retried
    # One result per recipient, each sent one with the sid the emulator assigned.
    assert len(results) == len(recipients)
    sids = {m["sid"]: m["to"] for m in emulator.messages()}
    for r in results:
        if r["status"] == "sent":
            assert sids[r["message_sid"]] == r["to"]
    assert sorted(job.results, key=str) == sorted(results, key=str)


def test_invalid_and_duplicate_recipients_are_reported_and_never_sent(fresh_emulator: Any) -> None:
    results: list[dict[str, Any]] = []
    with client_for(fresh_emulator) as client:
        job = client.bulk_send(
            ["+14152000001", "+1 415 200 0001", "nope", 42, ("+14152000002", None)],  # type: ignore[list-item]
            "Hi",
            from_=SENDER,
            on_result=results.append,
        )
        summary = job.wait(timeout=30)
    by_status = collections.defaultdict(list)
    for r in results:
        by_status[r["status"]].append(r)
    assert summary["sent"] == 2
    assert [r["to"] for r in by_status["duplicate"]] == ["+14152000001"]
    assert len(by_status["invalid"]) == 2
    invalid_errors = " ".join(r["error"] for r in by_status["invalid"])
    assert "nope" in invalid_errors
    assert "recipients[3]" in invalid_errors  # the non-str item, named by position
    assert all(r["error_code"] == 21211 for r in by_status["invalid"])
    assert set(created_per_recipient(fresh_emulator)) == {"+14152000001", "+14152000002"}


def test_permanent_failures_are_reported_and_not_retried(fresh_emulator: Any) -> None:
    # Twilio's magic To numbers: 21610 (unsubscribed) and 21614 (not a mobile number).
    refused = {"+15005550004": 21610, "+15005550009": 21614}
    results: dict[str, dict[str, Any]] = {}
    with client_for(fresh_emulator) as client:
        job = client.bulk_send(
            [*numbers(4), *refused],
            "Hi",
            from_=SENDER,
            on_result=lambda r: results.__setitem__(r["to"], r),
        )
        summary = job.wait(timeout=30)
    assert summary["sent"] == 4
    assert summary["failed"] == 2
    assert summary["retries"] == 0
    for number, code in refused.items():
        assert results[number]["status"] == "failed"
        assert results[number]["error_code"] == code
        assert results[number]["message_sid"] is None
        assert results[number]["error"]
    assert set(created_per_recipient(fresh_emulator)) == set(numbers(4))


def test_per_recipient_bodies(fresh_emulator: Any) -> None:
    pairs = [("+14152000001", "Hello Ann"), ("+14152000002", "Hello Bob"), ("+14152000003", None)]
    with client_for(fresh_emulator) as client:
        summary = client.bulk_send(pairs, "Hello you", from_=SENDER).wait(timeout=30)
    assert summary["sent"] == 3
    bodies = {m["to"]: m["body"] for m in fresh_emulator.messages()}
    assert bodies == {
        "+14152000001": "Hello Ann",
        "+14152000002": "Hello Bob",
        "+14152000003": "Hello you",
    }


def test_configured_rate_is_held_at_the_emulator(fresh_emulator: Any) -> None:
    mps = 20.0
    count = 30
    with client_for(fresh_emulator) as client:
        summary = client.bulk_send(numbers(count), "Paced", from_=SENDER, mps=mps).wait(timeout=60)
    assert summary["sent"] == count
    created = sorted(
        fresh_emulator.message(m["sid"]).date_created for m in fresh_emulator.messages()
    )
    assert len(created) == count
    # Two may go at once (50 ms of slack); the rest at most `mps` per second. Generous bound:
    # 90% of the ideal span, measured on the emulator's clock.
    span = created[-1] - created[0]
    assert span >= 0.9 * (count - 2) / mps, span


def test_two_segment_bodies_count_double_against_the_rate(fresh_emulator: Any) -> None:
    body = "x" * 200  # 2 GSM-7 segments
    with client_for(fresh_emulator) as client:
        job = client.bulk_send(numbers(8), body, from_=SENDER, mps=20.0)
        assert job.segments == 2
        assert job.estimated_seconds == pytest.approx(8 * 2 / 20.0)
        summary = job.wait(timeout=60)
    assert summary["sent"] == 8
    created = sorted(
        fresh_emulator.message(m["sid"]).date_created for m in fresh_emulator.messages()
    )
    assert created[-1] - created[0] >= 0.9 * 7 * 2 / 20.0


def test_smart_encoded_jobs_send_it_and_count_the_encoded_body(fresh_emulator: Any) -> None:
    body = "\u201c" + "a" * 70 + "\u201d \u2014 " + "b" * 75  # 3 UCS-2 segments as written
    own = "\u2018" + "c" * 200 + "\u2019"  # 4 UCS-2 segments as written, 2 GSM-7 ones
    pairs = [(n, None) for n in numbers(4)] + [("+14152000009", own)]
    with client_for(fresh_emulator) as client:
        plain = start_bulk_job(client._core, numbers(4), body, from_=SENDER)
        assert (plain.segments, plain.estimated_seconds) == (3, pytest.approx(4 * 3))
        plain.cancel()
        plain.wait(timeout=30)
        fresh_emulator.reset()
        job = client.bulk_send(pairs, body, from_=SENDER, smart_encoded=True)
        assert (job.segments, job.estimated_seconds) == (1, pytest.approx(5 * 1))
        summary = job.wait(timeout=30)
    assert summary["sent"] == 5
    sent = {m["to"]: m for m in fresh_emulator.messages()}
    assert sent["+14152000009"]["body"] == "'" + "c" * 200 + "'"
    assert sent["+14152000009"]["num_segments"] == "2"
    assert {m["body"] for to, m in sent.items() if to != "+14152000009"} == {
        '"' + "a" * 70 + '" - ' + "b" * 75
    }
    with pytest.raises(TypeError, match="smart_encoded"):
        start_bulk_job(client._core, numbers(1), "x", from_=SENDER, smart_encoded="yes")  # type: ignore[arg-type]


def test_the_estimate_counts_a_sized_collection_and_not_a_generator(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        sized = client.bulk_send(tuple(numbers(3000)), "Hi", from_=SENDER)  # a 1-MPS long code
        streamed = client.bulk_send(iter(numbers(3000)), "Hi", from_=SENDER)
        for job in (sized, streamed):
            job.cancel()
            job.wait(timeout=30)
    assert sized.estimated_seconds == pytest.approx(3000)
    assert streamed.estimated_seconds == 0


def test_long_job_warns_with_its_estimate(
    fresh_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with client_for(fresh_emulator) as client, caplog.at_level("WARNING", "twiliocore.bulk"):
        job = client.bulk_send(numbers(10_000), "x" * 200, from_=SENDER)  # a 1-MPS long code
        assert job.estimated_seconds == pytest.approx(20_000)
        job.cancel()
        summary = job.wait(timeout=30)
    assert "5.6 hours" in caplog.text
    assert "Messaging Service" in caplog.text
    # Cancelled at once: recipients not yet read are never counted, so only "not all sent"
    # holds however far intake got.
    assert job.done and summary["sent"] < 10_000


def test_cancel_from_another_thread_stops_a_streaming_job(fresh_emulator: Any) -> None:
    def endless() -> Any:
        i = 0
        while True:
            yield f"+1415{2000000 + i:07d}"
            i += 1

    with client_for(fresh_emulator) as client:
        job = client.bulk_send(endless(), "Hi", from_=SENDER, mps=200.0)
        threading.Timer(0.3, job.cancel).start()
        summary = job.wait(timeout=30)
    assert job.done
    assert summary["cancelled"] > 0
    assert summary["sent"] == len(created_per_recipient(fresh_emulator))
    assert summary["sent"] + summary["cancelled"] == summary["total"]


def test_ctrl_c_in_wait_cancels_the_job(fresh_emulator: Any) -> None:
    import signal

    with client_for(fresh_emulator) as client:
        job = client.bulk_send(numbers(2000), "Hi", from_=SENDER, mps=100.0)
        threading.Timer(0.3, signal.raise_signal, args=(signal.SIGINT,)).start()
        with pytest.raises(KeyboardInterrupt):
            job.wait(timeout=60)
        assert job.done
        summary = job.summary
    assert summary["cancelled"] > 0
    assert summary["sent"] == len(created_per_recipient(fresh_emulator))


def test_wait_timeout_raises_and_the_job_keeps_running(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        job = client.bulk_send(numbers(20), "Hi", from_=SENDER, mps=20.0)
        with pytest.raises(TimeoutError):
            job.wait(timeout=0.1)
        assert not job.done
        summary = job.wait(timeout=30)
    assert summary["sent"] == 20


def test_raising_callbacks_are_reported_as_unraisable_and_do_not_break_the_job(
    fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def bad_result(result: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    def bad_progress(progress: dict[str, Any]) -> None:
        raise ValueError("progress bug")

    with client_for(fresh_emulator) as client:
        summary = client.bulk_send(
            numbers(10), "Hi", from_=SENDER, on_result=bad_result, on_progress=bad_progress
        ).wait(timeout=30)
    assert summary["sent"] == 10
    kinds = collections.Counter(type(u.exc_value).__name__ for u in reported)
    assert kinds["RuntimeError"] == 10
    assert kinds["ValueError"] >= 1


def test_an_iterable_that_raises_stops_intake_and_reraises(fresh_emulator: Any) -> None:
    def broken() -> Any:
        yield "+14152000001"
        yield "+14152000002"
        raise LookupError("address book unavailable")

    with client_for(fresh_emulator) as client:
        job = client.bulk_send(broken(), "Hi", from_=SENDER)
        with pytest.raises(LookupError, match="address book"):
            job.wait(timeout=30)
        assert job.summary["sent"] == 2


def test_progress_is_throttled_and_ends_with_the_totals(fresh_emulator: Any) -> None:
    progress: list[dict[str, Any]] = []
    with client_for(fresh_emulator) as client:
        summary = client.bulk_send(
            numbers(40), "Hi", from_=SENDER, mps=100.0, on_progress=progress.append
        ).wait(timeout=30)
    assert 1 <= len(progress) < 40  # not once per message
    assert progress[-1]["done"] is True
    assert progress[-1]["sent"] == summary["sent"] == 40


def test_a_generator_is_streamed_not_materialised(fresh_emulator: Any) -> None:
    pulled = 0

    def gen() -> Any:
        nonlocal pulled
        for number in numbers(5000):
            pulled += 1
            yield number

    with client_for(fresh_emulator) as client:
        job = client.bulk_send(gen(), "Hi", from_=SENDER, mps=50.0)
        time.sleep(0.3)
        in_flight_pull = pulled
        job.cancel()
        job.wait(timeout=30)
    assert in_flight_pull < 5000  # only a bounded buffer ahead of the sends


def test_bad_arguments_name_the_field(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        with pytest.raises(ValueError, match="window"):
            client.bulk_send(numbers(1), "Hi", from_=SENDER, window=0)
        with pytest.raises(ValueError, match="mps"):
            client.bulk_send(numbers(1), "Hi", from_=SENDER, mps=-1)
        with pytest.raises(ValueError, match="retry_policy"):
            client.bulk_send(numbers(1), "Hi", from_=SENDER, retry_policy="maybe")
        with pytest.raises(ValueError, match="region"):
            client.bulk_send(numbers(1), "Hi", from_=SENDER, region="XX")
        with pytest.raises(ValueError, match="from_"):
            client.bulk_send(numbers(1), "Hi")
        with pytest.raises(TypeError, match="recipients"):
            client.bulk_send("+14152000001", "Hi", from_=SENDER)
        with pytest.raises(TypeError, match="recipients: expected an iterable, got int"):
            client.bulk_send(3, "Hi", from_=SENDER)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="on_result"):
            client.bulk_send(numbers(1), "Hi", from_=SENDER, on_result=3)  # type: ignore[arg-type]


def test_send_bulk_sms_returns_the_summary_contract(fresh_emulator: Any) -> None:
    seen: list[dict[str, Any]] = []
    service = SMSService(
        fresh_emulator.account_sid,
        fresh_emulator.auth_token,
        SENDER,
        base_url=fresh_emulator.url,
    )
    with service:
        out = service.send_bulk_sms(
            ["+14152000001", "+14152000001", "bad"], "Hello", on_result=seen.append
        )
    assert {
        "total",
        "sent",
        "failed",
        "invalid",
        "duplicates",
        "unknown",
        "retries",
        "duration_seconds",
        "rate",
        "results",
    } <= set(out)
    assert (out["total"], out["sent"], out["invalid"], out["duplicates"]) == (3, 1, 1, 1)
    assert len(out["results"]) == 3 == len(seen)
    for r in out["results"]:
        assert set(r) == {"to", "status", "message_sid", "error_code", "error"}


def test_send_bulk_whatsapp_prefixes_channel(fresh_emulator: Any) -> None:
    service = SMSService(
        fresh_emulator.account_sid,
        fresh_emulator.auth_token,
        whatsapp_number=WHATSAPP_SENDER,
        base_url=fresh_emulator.url,
    )
    with service:
        out = service.send_bulk_whatsapp(["+14152000001", "whatsapp:+14152000002"], "Hola")
    assert out["sent"] == 2
    msgs = fresh_emulator.messages()
    assert {m["to"] for m in msgs} == {"whatsapp:+14152000001", "whatsapp:+14152000002"}
    assert {m["from"] for m in msgs} == {"whatsapp:" + WHATSAPP_SENDER}


def test_async_send_bulk_sms_is_the_twin(fresh_emulator: Any) -> None:
    import asyncio

    from twiliocore import AsyncSMSService

    async def main() -> dict[str, Any]:
        async with AsyncSMSService(
            fresh_emulator.account_sid,
            fresh_emulator.auth_token,
            SENDER,
            base_url=fresh_emulator.url,
        ) as service:
            return await service.send_bulk_sms(numbers(5), "Hi")

    out = asyncio.run(main())
    assert out["sent"] == 5
    assert len(out["results"]) == 5


def test_job_repr_and_type(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        job = client.bulk_send(numbers(2), "Hi", from_=SENDER)
        assert isinstance(job, BulkJob)
        job.wait(timeout=30)
        assert repr(job).startswith("<BulkJob done total=2 sent=2")


def test_interpreter_exit_with_a_running_job_neither_hangs_nor_crashes(
    fresh_emulator: Any,
) -> None:
    import subprocess

    script = f"""
import sys
from twiliocore import Client
client = Client({fresh_emulator.account_sid!r}, {fresh_emulator.auth_token!r},
                base_url={fresh_emulator.url!r})
def endless():
    i = 0
    while True:
        yield "+1415%07d" % (2000000 + i)
        i += 1
job = client.bulk_send(endless(), "bye", from_={SENDER!r}, mps=200.0, on_result=lambda r: None)
import time
time.sleep(0.3)
print("sent before exit:", job.summary["sent"] > 0)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "sent before exit: True" in proc.stdout


def test_interpreter_exit_with_an_in_process_emulator_under_load() -> None:
    # The emulator's server thread calls into the C++ core; at exit it must be stopped
    # before finalization (a thread torn down inside a core call aborts the process).
    import subprocess

    script = f"""
import time
from twiliocore import Client
from twiliocore.emulator import Emulator
emulator = Emulator(mps=1000, status_delay=0.02).start()
client = Client(emulator.account_sid, emulator.auth_token, base_url=emulator.url)
def endless():
    i = 0
    while True:
        yield "+1415%07d" % (3000000 + i)
        i += 1
job = client.bulk_send(endless(), "bye", from_={SENDER!r}, mps=200.0, on_result=lambda r: None)
time.sleep(0.3)
print("sent before exit:", job.summary["sent"] > 0)
"""
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "sent before exit: True" in proc.stdout
