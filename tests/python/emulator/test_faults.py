"""Injected faults over real HTTP: 429, 500, 503, slow, dropped before/after processing."""

from __future__ import annotations

import httpx
import pytest
from twiliocore.emulator import FaultConfig

from .spec import assert_twilio_error


@pytest.mark.parametrize(("kind", "code"), [("429", 20429), ("500", 20500), ("503", 20503)])
def test_error_faults_are_answered_and_not_processed(make_emulator, api_for, kind, code):
    api = api_for(make_emulator(faults={kind: 1.0}))
    response = api.send()
    assert_twilio_error(response, int(kind), code)
    if kind == "429":
        assert response.headers["Retry-After"] == "1"
    assert api.emulator.messages() == []


def test_drop_before_processing_closes_without_answer_and_creates_nothing(make_emulator, api_for):
    api = api_for(make_emulator(faults={"drop": 1.0}))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        api.send()
    assert api.emulator.messages() == []


def test_drop_after_processing_creates_the_message_but_never_answers(make_emulator, api_for):
    api = api_for(make_emulator(faults={"drop_after": 1.0}))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        api.send(Body="ambiguous")
    # A blind retry sends twice: the inspection endpoint shows both.
    with pytest.raises(httpx.RemoteProtocolError):
        api.send(Body="ambiguous")
    inspected = httpx.get(api.emulator.url + "/_emulator/messages").json()
    assert [m["body"] for m in inspected["messages"]] == ["ambiguous", "ambiguous"]


def test_slow_answers_are_processed(make_emulator, api_for):
    api = api_for(make_emulator(faults="slow=1,slow_seconds=0.2"))
    assert api.send().status_code == 201
    assert len(api.emulator.messages()) == 1


def test_the_same_seed_gives_the_same_faults(make_emulator, api_for):
    faults = {"429": 0.2, "500": 0.2, "503": 0.2}

    def run() -> list[int]:
        api = api_for(make_emulator(faults=faults, seed=1234))
        return [api.send().status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {201, 429, 500, 503} <= set(first)


def test_reset_restarts_the_fault_sequence(make_emulator, api_for):
    api = api_for(make_emulator(faults={"500": 0.5}, seed=7))
    first = [api.send().status_code for _ in range(20)]
    api.emulator.reset()
    assert [api.send().status_code for _ in range(20)] == first


def test_control_endpoints_are_never_faulted(make_emulator):
    emulator = make_emulator(faults={"500": 1.0})
    assert httpx.get(emulator.url + "/_emulator/health").status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("teapot=0.1", "unknown kind"),
        ("429=2", "within 0..1"),
        ("429=0.6,500=0.6", "more than 1"),
        ("500", "kind=probability"),
        ({"slow": "x"}, "must be a number"),
    ],
)
def test_bad_fault_settings_are_rejected(value, message):
    with pytest.raises(ValueError, match=message):
        FaultConfig.parse(value)


def test_fault_string_aliases():
    config = FaultConfig.parse("429:0.1; drop-after=0.2, drop_before=0.05, slow-seconds=3")
    assert (config.p429, config.drop_after, config.drop, config.slow_seconds) == (0.1, 0.2, 0.05, 3)
