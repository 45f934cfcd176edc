"""The shared fixtures in tests/conftest.py: a clean environment, emulators, the receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

TESTS = Path(__file__).resolve().parents[2]


def test_environment_is_cleaned_for_every_test(tmp_path):
    (tmp_path / "test_env.py").write_text(
        "import os\n"
        "def test_clean():\n"
        "    names = ('TWILIO_AUTH_TOKEN', 'TWILIO_ACCOUNT_SID', 'DATABASE_URL', 'HTTPS_PROXY',"
        " 'http_proxy')\n"
        "    assert not [n for n in names if n in os.environ]\n"
        "    assert os.environ['KEEP_ME'] == '1'\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "TWILIO_AUTH_TOKEN": "outer",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "DATABASE_URL": "sqlite:///outer.db",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "KEEP_ME": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_fresh_emulator_is_empty(fresh_emulator):
    assert fresh_emulator.messages() == [] and fresh_emulator.webhooks() == []


def test_make_emulator_applies_settings(make_emulator):
    emulator = make_emulator(account_sid="AC" + "9" * 32)
    assert emulator.account_sid == "AC" + "9" * 32
    health = httpx.get(emulator.url + "/_emulator/health").json()
    assert health == {"status": "ok", "account_sid": "AC" + "9" * 32}


def test_webhook_receiver_records_and_answers(webhook_receiver):
    webhook_receiver.answers = [503]
    first = httpx.post(webhook_receiver.url + "/a?b=1", data={"X": "1"})
    second = httpx.get(webhook_receiver.url + "/c?d=2")
    assert (first.status_code, second.status_code) == (503, 200)
    a, c = webhook_receiver.requests
    assert (a.method, a.url, a.form) == ("POST", webhook_receiver.url + "/a?b=1", {"X": "1"})
    assert (c.method, c.form) == ("GET", {"d": "2"})
