"""Load shedding: the gate's bounds and the lanes (the floods themselves: test_under_load)."""

from __future__ import annotations

import anyio
import pytest
from twiliocore_api.core.shedding import Gate, lane_of


@pytest.mark.parametrize(
    ("path", "lane"),
    [
        ("/api/health", None),
        ("/api/users/me", "api"),
        ("/api/sms/send", "api"),
        ("/", "api"),
        ("/webhook/twilio/status", "webhook"),
        ("/webhook/twilio/incoming", "webhook"),
    ],
)
def test_lanes(path, lane):
    assert lane_of(path) == lane


def test_a_gate_admits_its_limit_queues_briefly_and_sheds_the_rest():
    async def scenario() -> None:
        gate = Gate(limit=2, queue=1, wait_seconds=0.2)
        assert await gate.acquire() and await gate.acquire()
        assert gate.in_flight == 2
        results: list[bool] = []

        async def wait_for_place() -> None:
            results.append(await gate.acquire())

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(wait_for_place)  # queued
            await anyio.sleep(0.05)
            assert gate.waiting == 1
            assert not await gate.acquire()  # the queue is full: shed at once
            await anyio.sleep(0.01)
            gate.release()  # a place frees: the queued one takes it
        assert results == [True]
        assert not await gate.acquire()  # nobody leaves within the wait: shed
        assert gate.shed == 2
        gate.release()
        gate.release()
        assert gate.in_flight == 0

    anyio.run(scenario)
