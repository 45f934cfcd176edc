"""The benchmark's fairness check: twiliocore's bulk fan-out and the bare libcurl loop it is
compared with send byte-identical requests (bench/run_all.py captures one of each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import run_all


def test_twiliocore_and_the_c_loop_send_identical_requests(tmp_path: Path) -> None:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    baseline = run_all.compile_baseline(tmp_path)
    ca = tmp_path / "unused-ca.pem"
    ca.write_text("")
    same = run_all.compare_requests(baseline, str(ca), run_all.child_env(ca))
    assert same["twiliocore"].startswith("POST /2010-04-01/Accounts/")
    assert "User-Agent: twiliocore/" in same["twiliocore"]
    assert same["twiliocore"].endswith(
        "To=%2B14152000000&From=%2B15005550006&Body=Your+verification+code+is+482913."
        "+It+expires+in+10+minutes.+Reply+STOP+to+opt+out."
    )
    assert same["identical"], (same["twiliocore"], same["curl_multi_c"])
