"""``import twiliocore`` stays cheap: a start-up budget, and modules loaded where used.

A program that sends (a worker, a cron job) pays for every module the package imports, in
memory and start-up time: modules that only some calls need (asyncio, logging, json, typing,
the emulator's web stack) are imported by those calls. Speed belongs to the benchmarks; here
the import is held to a budget relative to a baseline measured in the same run, so that the
check means the same on a fast machine and on a loaded one.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys

# `import twiliocore` may take at most this many times as long as `import json` (a stdlib
# package of the same order: json, its decoder and scanner, re and enum). Measured on 2 cores:
# about 1.1 idle (twiliocore ~6 ms, of which ~4.5 ms load the compiled core and its
# libraries; json ~5.7 ms) and 1.1-1.5 with four busy processes. An eager `import logging`
# in the package makes it ~3, `asyncio` ~7, the emulator ~20.
BUDGET_RATIO = 2.5
RUNS = 9

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")


def _import_tree(module: str) -> list[tuple[str, int, int]]:
    """``module`` and what it imported, from ``-X importtime``, in one fresh interpreter.

    The first entry is ``(module, cumulative µs, 0)``; then ``(name, self µs, depth)`` of
    every module its import loaded.
    """
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    subtree: list[tuple[str, int, int]] = []
    for line in err.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        depth = len(indent) // 2
        if depth == 0 and name != module:
            subtree = []  # a top-level import (site, encodings...) closes its own subtree
            continue
        subtree.append((name, int(self_us), depth))
        if depth == 0:
            return [(name, int(cumulative_us), 0), *subtree[:-1]]
    raise AssertionError(f"{module} not in the -X importtime output:\n{err}")


def test_import_time_within_budget_of_a_stdlib_baseline() -> None:
    ours: list[int] = []
    baseline: list[int] = []
    trees: list[list[tuple[str, int, int]]] = []
    _import_tree("twiliocore")  # warm the page cache for the compiled core and its libraries
    for _ in range(RUNS):  # interleaved, so that a burst of load hits both alike
        tree = _import_tree("twiliocore")
        trees.append(tree)
        ours.append(tree[0][1])
        baseline.append(_import_tree("json")[0][1])
    ours_us, baseline_us = statistics.median(ours), statistics.median(baseline)
    ratio = ours_us / baseline_us
    median_tree = trees[ours.index(sorted(ours)[RUNS // 2])]
    imported = "\n".join(
        f"{'  ' * depth}{name}: {self_us} µs" for name, self_us, depth in median_tree[1:]
    )
    report = (
        f"import twiliocore: {ours_us:.0f} µs, import json: {baseline_us:.0f} µs "
        f"(medians of {RUNS}), ratio {ratio:.2f} (budget {BUDGET_RATIO}); "
        "twiliocore imports (self time; as -X importtime lists them, a module's own imports "
        f"above it and indented):\n{imported}"
    )
    print(report)
    assert "twiliocore._core" in {name for name, _, _ in median_tree}, report
    assert ratio <= BUDGET_RATIO, report


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_result_types_load_on_first_access() -> None:
    loaded = _modules_after(
        "import twiliocore.bulk, twiliocore.phone, sys\n"
        "assert 'typing' not in sys.modules\n"
        "from twiliocore.bulk import BulkResult, BulkSummary, Recipients\n"
        "assert 'str' in repr(Recipients)\n"
        "from twiliocore.phone import NumberInfo, PhoneResult\n"
        "assert PhoneResult('a', None, 'not a number').reason == 'not a number'\n"
        "assert BulkResult.__annotations__ and BulkSummary.__total__ is False\n"
        "assert twiliocore.phone.to_e164_many(['+14155552671'])[0] == "
        "PhoneResult('+14155552671', '+14155552671', None)\n"
        "try:\n"
        "    twiliocore.bulk.Missing\n"
        "except AttributeError as e:\n"
        "    assert 'Missing' in str(e)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    assert "typing" in loaded


def test_deferred_modules_load_where_used() -> None:
    loaded = _modules_after(
        "import datetime\n"
        "from twiliocore.client import serialize\n"
        "assert serialize(datetime.date(2026, 1, 2)) == ['2026-01-02']\n"
        "assert serialize({'a': 1}) == ['{\"a\": 1}']\n"
        "from twiliocore import RequestValidator\n"
        "assert RequestValidator('t').compute_hash('{}') == "
        "'44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'\n"
        "assert not RequestValidator('t').validate('https://x/', {}, 'sig', 'MD5')\n"
    )
    assert {"json", "logging"} <= loaded
    assert "hashlib" not in loaded


def test_libphonenumber_loads_only_for_numbers_that_need_it() -> None:
    """`+1` E.164 numbers valid for the US and region checks never load libphonenumber."""
    code = (
        "import twiliocore\n"
        "from twiliocore.phone import to_e164_many\n"
        "def loaded():\n"
        "    return any('phonenumber' in line for line in open('/proc/self/maps'))\n"
        "assert to_e164_many(['+14155552671', '+12125551234'], region='gb')[0].e164 "
        "== '+14155552671'\n"
        "print(loaded())\n"
        "assert twiliocore.to_e164('020 7946 0958', region='GB') == '+442079460958'\n"
        "print(loaded())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == ["False", "True"]
