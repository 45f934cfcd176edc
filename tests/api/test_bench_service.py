"""The service benchmark's runner (bench/service.py) in a smoke run: every target measured."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_service_benchmark_measures_every_target(tmp_path: Path) -> None:
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"{tool} is not installed")
    out = tmp_path / "service-results.json"
    md = tmp_path / "benchmarks.md"
    md.write_text("# Benchmarks\n\nThe engine's sections.\n")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "service.py"),
            "--quick",
            "--connections",
            "4",
            "--callbacks",
            "40",
            "--mix-n",
            "140",
            "--json",
            str(out),
            "--md",
            str(md),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=280,
    )
    res = json.loads(out.read_text())
    keys = {t["key"] for t in res["targets"]}
    assert keys == {
        "single_send.sqlite.4",
        "single_send.postgresql.4",
        "status_callbacks.sqlite",
        "status_callbacks.postgresql",
        "bulk_rest",
        "intl_mix",
    }
    for db in ("sqlite", "postgresql"):
        if "error" in res["single_send"][db] and "PostgreSQL" in res["single_send"][db]["error"]:
            continue  # no PostgreSQL server binaries on this machine
        point = res["single_send"][db]["4"]
        for app in ("service", "reference"):
            assert point[app]["ok"] > 0 and point[app]["non2xx"] == 0, (db, app, point[app])
        assert point["ratio"] == pytest.approx(point["service"]["rps"] / point["reference"]["rps"])
        callbacks = res["status_callbacks"][db]
        for app in ("service", "reference"):
            # Processed means applied in the database, every one of them.
            assert callbacks[app]["applied"] == 40, (db, app, callbacks[app])
            assert callbacks[app]["answers"] == {"204": 40}, (db, app, callbacks[app])
    mix = res["intl_mix"]
    assert mix["identical"] is True and mix["mismatches"] == []
    assert mix["sent"] == {"plus1": 140, "mix": 140} and mix["ratio"] > 0
    bulk = res["bulk_rest"]
    assert bulk["present"] is (ROOT / "bench" / "service_bulk.py").exists()
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nThe engine's sections.\n")
    assert "<!-- service-results:begin" in text and "international mix" in text
