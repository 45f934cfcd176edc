"""The README's Python examples run as written against the emulator."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, fresh_emulator, monkeypatch):
    monkeypatch.setenv("TWILIO_API_BASE_URL", fresh_emulator.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fresh_emulator.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fresh_emulator.auth_token)
    monkeypatch.setenv("TWILIO_PHONE_NUMBER", "+15005550006")
    monkeypatch.setenv("TWILIO_WHATSAPP_NUMBER", "+14155238886")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "__main__"})
    text = out.getvalue()
    assert text.strip(), "every example prints what it shows"
    assert "Traceback" not in text
    # Spot-check the outputs the README promises in its comments.
    if "compute_signature" in BLOCKS[index]:
        assert "0/KCTR6DLpKmkAf8muzZqo1nDgQ= True" in text
    if "send_bulk_sms" in BLOCKS[index]:
        sent, duplicates, invalid = text.splitlines()[0].split()
        assert (sent, duplicates, invalid) == ("2", "1", "1")
    if "TwilioRestException" in BLOCKS[index]:
        assert "400 21211" in text
    if "number_info" in BLOCKS[index]:
        assert text.splitlines()[:2] == ["+14155552671", "+442079460958"]
