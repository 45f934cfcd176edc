"""``twiliocore emulator``: prints URL and credentials, serves, stops cleanly."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from twiliocore.cli import build_parser


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twiliocore",
            "emulator",
            "--port",
            "0",
            "--log-level",
            "warning",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    settings: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("export TWILIO_"):
            name, _, value = line.strip().removeprefix("export ").partition("=")
            settings[name] = shlex.split(value)[0] if value else ""
        if line.startswith("Inspect:"):
            break
    return process, settings


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Interrupt the emulator; return its exit status and what it wrote to stderr."""
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def test_cli_prints_url_and_fresh_credentials_and_serves():
    process, settings = start("--phone-number", "+14155550100", "--mps", "50")
    try:
        assert settings["TWILIO_ACCOUNT_SID"].startswith("AC")
        assert len(settings["TWILIO_AUTH_TOKEN"]) == 32
        assert settings["TWILIO_PHONE_NUMBER"] == "+15005550006"
        assert settings["TWILIO_WHATSAPP_NUMBER"] == "+14155238886"
        base = settings["TWILIO_API_BASE_URL"]
        auth = (settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"])
        response = httpx.post(
            f"{base}/2010-04-01/Accounts/{auth[0]}/Messages.json",
            data={"To": "+14155552671", "From": "+14155550100", "Body": "hi"},
            auth=auth,
        )
        assert response.status_code == 201
    finally:
        status, err = stop(process)
    assert status == 0
    assert settings["TWILIO_AUTH_TOKEN"] not in err


def test_cli_uses_given_credentials_and_two_runs_differ():
    sid, token = "AC" + "1" * 32, "given-token"
    process, settings = start("--account-sid", sid, "--auth-token", token)
    try:
        assert (settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"]) == (sid, token)
    finally:
        stop(process)
    first, a = start()
    second, b = start()
    try:
        assert a["TWILIO_AUTH_TOKEN"] != b["TWILIO_AUTH_TOKEN"]
        assert a["TWILIO_ACCOUNT_SID"] != b["TWILIO_ACCOUNT_SID"]
    finally:
        stop(first)
        stop(second)


def test_cli_rejects_bad_settings():
    result = subprocess.run(
        [sys.executable, "-m", "twiliocore", "emulator", "--faults", "teapot=1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "faults" in result.stderr


def test_cli_reports_a_busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "twiliocore", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "did not start" in result.stderr


def test_parser_registers_the_options():
    args = build_parser().parse_args(
        ["emulator", "--mps", "2", "--max-concurrent", "5", "--seed", "3", "--faults", "500=0.1"]
    )
    assert (args.mps, args.max_concurrent, args.seed, args.faults) == (2.0, 5, 3, "500=0.1")
    assert args.port == 8081 and args.host == "127.0.0.1"


@pytest.mark.parametrize("flag", ["--help"])
def test_cli_help(flag):
    result = subprocess.run(
        [sys.executable, "-m", "twiliocore", "emulator", flag], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--queue-cap-seconds" in result.stdout
