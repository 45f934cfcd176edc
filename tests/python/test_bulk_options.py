"""One BulkOptions for every bulk entry point, and the job's on_done hook."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
from typing import Any

import pytest
from twiliocore import AsyncSMSService, BulkOptions, Client, SMSService, _core
from twiliocore.bulk import BulkJob, start_bulk_job

SENDER = "+15005550006"

pytestmark = pytest.mark.timeout(120)


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"+1415{3000000 + i:07d}" for i in range(start, start + n)]


def client_for(emulator: Any) -> Client:
    return Client(emulator.account_sid, emulator.auth_token, base_url=emulator.url)


def test_defaults_mirror_the_core() -> None:
    options = BulkOptions()
    assert (options.window, options.mps, options.retry_policy) == (64, None, "reconcile")
    assert (options.max_attempts, options.backoff_base, options.progress_interval) == (
        8,
        0.25,
        0.25,
    )
    assert options.reconcile_delays == (0.5, 2.0, 5.0)
    assert (options.region, options.whatsapp, options.smart_encoded) == ("US", False, False)
    assert (options.keep_results, options.seed, options.media_urls) == (True, 0, [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.window = 1  # type: ignore[misc]
    assert hash(options) == hash(BulkOptions())


def test_the_binding_takes_every_converted_field() -> None:
    kwargs = BulkOptions(from_=SENDER, media_url=["https://e.x/a.png"], mps=2).core_kwargs()
    signature = (_core.BulkJob.__init__.__doc__ or "").split("\n")[0]
    assert all(f"{name}:" in signature for name in kwargs), signature
    assert (kwargs["from_"], kwargs["media_urls"], kwargs["mps"]) == (
        SENDER,
        ["https://e.x/a.png"],
        2.0,
    )


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("window", 0, ValueError),
        ("window", 10001, ValueError),
        ("window", True, ValueError),
        ("mps", 0, ValueError),
        ("mps", "fast", ValueError),
        ("retry_policy", "maybe", ValueError),
        ("max_attempts", 0, ValueError),
        ("backoff_base", 0, ValueError),
        ("progress_interval", -1, ValueError),
        ("reconcile_delays", (1.0, -1.0), ValueError),
        ("seed", -1, ValueError),
        ("region", "", ValueError),
        ("smart_encoded", "yes", TypeError),
        ("keep_results", 1, TypeError),
        ("body", b"bytes", TypeError),
        ("media_url", [1], TypeError),
    ],
)
def test_bad_values_name_the_field(field: str, value: Any, kind: type[Exception]) -> None:
    with pytest.raises(kind, match=f"^{field}: "):
        BulkOptions(**{field: value})
    with pytest.raises(kind, match=f"^{field}: "):
        BulkOptions().replace(**{field: value})


def test_keywords_build_options_over_the_given_ones() -> None:
    base = BulkOptions(from_=SENDER, window=8, media_url=("https://e.x/a.png",))
    built = BulkOptions.build(base, {"window": None, "mps": 3.0})
    assert (built.window, built.mps, built.from_) == (8, 3.0, SENDER)
    assert BulkOptions.build(base, {"window": None}) is base
    with pytest.raises(TypeError, match="'colour'"):
        BulkOptions.build(None, {"colour": "red"})
    with pytest.raises(TypeError, match="options: expected BulkOptions, got dict"):
        BulkOptions.build({"window": 1}, {})  # type: ignore[arg-type]


def test_every_entry_point_takes_the_options(fresh_emulator: Any) -> None:
    options = BulkOptions(from_=SENDER, window=4, keep_results=False, retry_policy="fail")
    with client_for(fresh_emulator) as client:
        summary = client.bulk_send(numbers(5), "Hi", options=options).wait(timeout=60)
        assert summary["sent"] == 5
        assert client.bulk_send(numbers(2), "Hi", options=options).results == []
        # A keyword over the options: results kept again.
        job = client.bulk_send(numbers(3), "Hi", options=options, keep_results=True)
        job.wait(timeout=60)
        assert len(job.results) == 3
        job = start_bulk_job(client._core, numbers(2), "Hi", options=options)
        assert job.wait(timeout=60)["sent"] == 2
        with pytest.raises(ValueError, match="window"):
            client.bulk_send(numbers(1), "Hi", options=options, window=0)
        service = SMSService(client=client, phone_number=SENDER)
        result = service.send_bulk_sms(numbers(3), "Hi", options=options)
        assert (result["sent"], result["results"]) == (3, [])


def test_on_done_runs_once_after_the_final_progress(
    fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, bool]] = []
    done = threading.Event()

    def on_progress(progress: dict[str, Any]) -> None:
        events.append(("progress", bool(progress["done"])))

    def on_done() -> None:
        events.append(("done", threading.current_thread() is threading.main_thread()))
        done.set()

    with client_for(fresh_emulator) as client:
        job = start_bulk_job(
            client._core,
            numbers(20),
            "Hi",
            from_=SENDER,
            on_progress=on_progress,
            on_done=on_done,
        )
        assert done.wait(30)
        assert job.wait(timeout=5)["sent"] == 20
    assert events[-2:] == [("progress", True), ("done", False)]
    assert [e for e in events if e[0] == "done"] == [("done", False)]
    # An on_done that raises is reported as unraisable; the job is not disturbed.
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def bad() -> None:
        raise RuntimeError("done bug")

    with client_for(fresh_emulator) as client:
        job = start_bulk_job(client._core, numbers(3), "Hi", from_=SENDER, on_done=bad)
        assert job.wait(timeout=30)["sent"] == 3
    assert [type(u.exc_value) for u in reported] == [RuntimeError]
    with pytest.raises(TypeError, match="on_done"):
        start_bulk_job(client._core, numbers(1), "Hi", from_=SENDER, on_done=3)  # type: ignore[arg-type]


def test_async_bulk_awaits_the_completion_callback_not_a_timer(
    fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The task is woken once, from the job's thread, through call_soon_threadsafe; it never
    # asks the job whether it is done (which polling would).
    wakeups: list[str] = []

    class Loop(asyncio.SelectorEventLoop):
        def call_soon_threadsafe(self, callback: Any, *args: Any, context: Any = None) -> Any:
            wakeups.append(threading.current_thread().name)
            return super().call_soon_threadsafe(callback, *args, context=context)

    def polled(job: BulkJob) -> bool:
        raise AssertionError("the task polled job.done")

    monkeypatch.setattr(BulkJob, "done", property(polled))

    async def main() -> dict[str, Any]:
        async with AsyncSMSService(
            fresh_emulator.account_sid,
            fresh_emulator.auth_token,
            SENDER,
            base_url=fresh_emulator.url,
        ) as service:
            return await service.send_bulk_sms(
                numbers(30), "Hi", options=BulkOptions(window=8, keep_results=True)
            )

    with asyncio.Runner(loop_factory=Loop) as runner:
        summary = runner.run(main())
    assert summary["sent"] == 30 and len(summary["results"]) == 30
    assert len(wakeups) == 1 and wakeups[0] != threading.main_thread().name


def test_cancelling_the_task_cancels_the_job(fresh_emulator: Any) -> None:
    async def main() -> None:
        async with AsyncSMSService(
            fresh_emulator.account_sid,
            fresh_emulator.auth_token,
            SENDER,
            base_url=fresh_emulator.url,
        ) as service:
            seen: list[dict[str, Any]] = []
            task = asyncio.create_task(
                service.send_bulk_sms(numbers(500), "Hi", mps=20.0, on_result=seen.append)
            )
            while not seen:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.5)
            assert any(r["status"] == "cancelled" for r in seen)

    asyncio.run(main())
