"""Interleaved A/B of the bulk fan-out between two built trees, in one run.

usage: python bench/ab.py BEFORE_TREE AFTER_TREE [--n 20000] [--rounds 10]
                          [--transports http,https] [--json PATH]

Each tree is a checkout whose ``.venv`` holds its installed package (``make build`` there).
One fake Twilio (``bench/fake_twilio.py``) serves both; the two trees' ``twiliocore``
bulk clients (``bench.clients.twiliocore_bulk``) run alternately, the order flipped every
round so that neither always runs first on a warmer machine. Prints each run and the
medians, with the after/before ratios of the rate and of the CPU per message: a change is
judged by those ratios, measured side by side, never against numbers of another day.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import fake_twilio, run_all  # noqa: E402


def _run(tree: Path, url: str, ca: Path, n: int, concurrency: int) -> dict[str, Any]:
    env = run_all.child_env(ca)
    env["PYTHONPATH"] = str(tree)
    cmd = [str(tree / ".venv/bin/python"), "-m", "bench.clients.twiliocore_bulk"]
    out = run_all.run_child([*cmd, url, str(ca), str(n), str(concurrency)], env)
    return run_all.summarise(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the tree measured first as the reference")
    parser.add_argument("after", type=Path, help="the tree compared with it")
    parser.add_argument("--n", type=int, default=20000, help="messages per run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=10, help="runs of each tree")
    parser.add_argument("--transports", default="http,https", help="http, https or both")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for label, tree in trees.items():
        if not (tree / ".venv/bin/python").exists():
            parser.error(f"{label}: {tree} has no .venv (run make build there)")
    wanted = args.transports.split(",")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with fake_twilio.start() as server:
        urls = {"http": server.http_url, "https": server.https_url}
        for transport in wanted:
            for round_ in range(args.rounds):
                order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                for label in order:
                    time.sleep(1.0)
                    result = _run(
                        trees[label], urls[transport], server.ca, args.n, args.concurrency
                    )
                    runs.setdefault(transport, {}).setdefault(label, []).append(result)
                    print(transport, label, run_all.fmt_row(result), flush=True)
    summary: dict[str, Any] = {}
    for transport, by_tree in runs.items():
        rate = {k: statistics.median(r["rate"] for r in v) for k, v in by_tree.items()}
        cpu = {k: statistics.median(r["cpu_us_per_msg"] for r in v) for k, v in by_tree.items()}
        summary[transport] = {
            "median_rate": rate,
            "median_cpu_us_per_msg": cpu,
            "rate_ratio_after_over_before": rate["after"] / rate["before"],
            "cpu_ratio_after_over_before": cpu["after"] / cpu["before"],
        }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
