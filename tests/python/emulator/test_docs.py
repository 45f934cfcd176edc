"""The test-suite example in docs/emulator.md runs and passes as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"


def test_user_test_suite_example_passes(tmp_path):
    pytest.importorskip("twilio")
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## In your own test suite", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    conftest, tests = code.split("# test_notifications.py\n")
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "test_notifications.py").write_text(tests, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_python_quick_example_runs():
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"```python\n(from twiliocore.emulator import Emulator\n.*?)```", text, re.S)
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
