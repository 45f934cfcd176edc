"""Run every benchmark side by side in one run and write docs/benchmarks.md + a JSON file.

usage: python bench/run_all.py [--n 20000] [--concurrency 64] [--quick] [--sync-sample 2000]
                               [--stream-n 1000000] [--repeat 1] [--json PATH] [--md PATH]

Starts nginx on loopback as a fake Twilio Messages endpoint (plain HTTP; TLS offering HTTP/2; TLS
offering HTTP/1.1 only; a generated CA), then, for each transport, runs each client in its own
subprocess: twiliocore bulk, twilio-python's Client in a sequential loop (timed on a sample),
twilio-python's async client with asyncio.gather under a semaphore, a bare libcurl multi loop in
C, and wrk. Every number in the table comes from this run. Also runs the micro-benchmarks in
bench/micro.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import fake_twilio  # noqa: E402
from bench._common import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    BODY,
    FROM_NUMBER,
    recipient,
    vm_hwm_kb,
)

PY = sys.executable


class HwmPoller(threading.Thread):
    """Polls a child's VmHWM until it exits (for children that cannot report it themselves)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, vm_hwm_kb(self.pid))


def run_child(cmd: list[str], env: dict[str, str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``cmd``; return its JSON line plus its CPU time from os.wait4 and its peak RSS."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=ROOT)
        assert proc.stdout is not None
        poller = HwmPoller(proc.pid)
        poller.start()
        t0 = time.monotonic()
        out = proc.stdout.read().decode()
        poller.done.set()
        poller.join()
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{cmd[0]} took too long")
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    result: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
    result["returncode"] = proc.returncode
    result["process_cpu"] = ru.ru_utime + ru.ru_stime
    result["peak_rss_kb"] = max(int(result.get("vm_hwm_kb", 0)), poller.peak)
    if proc.returncode != 0 or "ok" not in result:
        result["error"] = (stderr or out)[-2000:]
    return result


def child_env(ca: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Every client verifies the server against the benchmark CA (nobody disables verification).
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        env[var] = str(ca)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def compile_baseline(tmp: Path) -> Path:
    exe = tmp / "curl_multi_baseline"
    subprocess.run(
        [
            "cc",
            "-O2",
            "-Wall",
            "-Wextra",
            "-o",
            str(exe),
            str(ROOT / "bench" / "curl_multi_baseline.c"),
            "-lcurl",
        ],
        check=True,
    )
    return exe


def twiliocore_user_agent() -> str:
    """The User-Agent line twiliocore's engine sends (the C loop is given the same)."""
    from twiliocore import _core

    return str(_core.default_user_agent())


def baseline_args(url: str, ca: str, n: int, concurrency: int) -> list[str]:
    """Arguments of the C loop: the same credentials, form fields and User-Agent as twiliocore."""
    return [
        url,
        ca,
        str(n),
        str(concurrency),
        ACCOUNT_SID,
        AUTH_TOKEN,
        quote_plus(FROM_NUMBER),
        quote_plus(BODY),
        twiliocore_user_agent(),
    ]


def capture_first_requests(cmds: list[list[str]], env: dict[str, str]) -> list[bytes]:
    """Run each of ``cmds`` (``{base}`` / ``{url}`` in their arguments stand for the capture
    server) against one loopback socket that records the requests it gets, answering each with
    201 and the fake Message JSON; return the first request of each command."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    captured: list[bytes] = []
    answer = fake_twilio.MESSAGE_JSON.encode()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                captured.append(head + b"\r\n\r\n" + rest)
                conn.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    firsts: list[bytes] = []
    try:
        base = f"http://127.0.0.1:{port}"
        url = base + fake_twilio.messages_path()
        for cmd in cmds:
            seen = len(captured)
            argv = [a.replace("{base}", base).replace("{url}", url) for a in cmd]
            subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
            firsts.append(captured[seen] if len(captured) > seen else b"")
    finally:
        listener.close()
        thread.join(timeout=5)
    return firsts


def compare_requests(baseline: Path, ca: str, env: dict[str, str]) -> dict[str, Any]:
    """Capture one request of twiliocore's bulk fan-out and one of the C loop: the same bytes?"""
    ours, theirs = capture_first_requests(
        [
            [PY, "-m", "bench.clients.twiliocore_bulk", "{base}", ca, "1", "1"],
            [str(baseline), *baseline_args("{url}", ca, 1, 1)],
        ],
        env,
    )
    return {
        "identical": ours == theirs and bool(ours),
        "twiliocore": ours.decode(errors="replace"),
        "curl_multi_c": theirs.decode(errors="replace"),
    }


def run_wrk(url: str, concurrency: int, duration: float, env: dict[str, str]) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"error": "wrk not installed (apt-get install wrk)"}
    env = dict(env)
    env["BENCH_FORM"] = fake_twilio.form_body(recipient(0))
    env["BENCH_AUTH"] = "Basic " + b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    threads = max(1, min(concurrency, os.cpu_count() or 1))
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        "-s",
        str(ROOT / "bench" / "post.lua"),
        url,
    ]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        assert proc.stdout is not None
        poller = HwmPoller(proc.pid)
        poller.start()
        out = proc.stdout.read().decode()
        poller.done.set()
        poller.join()
        _, _status, ru = os.wait4(proc.pid, 0)
    result: dict[str, Any] = {"process_cpu": ru.ru_utime + ru.ru_stime, "peak_rss_kb": poller.peak}
    requests = None
    seconds = None
    non2xx = 0
    for line in out.splitlines():
        line = line.strip()
        if " requests in " in line:
            parts = line.split()
            requests = int(parts[0])
            seconds = float(parts[3].rstrip("s,").replace("m", ""))
        if line.startswith("Non-2xx"):
            non2xx = int(line.split()[-1])
    if requests is None or seconds is None:
        result["error"] = out[-2000:]
        return result
    result.update(n=requests, ok=requests - non2xx, wall=seconds, cpu=result["process_cpu"])
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    good.sort(key=lambda r: r["ok"] / r["wall"])
    return good[len(good) // 2]


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    if "error" in r:
        return r
    r["rate"] = r["ok"] / r["wall"] if r["wall"] > 0 else 0.0
    r["cpu_us_per_msg"] = 1e6 * r["cpu"] / r["n"] if r["n"] else 0.0
    return r


def bench_transport(
    name: str,
    base: str,
    server: fake_twilio.FakeTwilio,
    args: argparse.Namespace,
    baseline: Path,
    env: dict[str, str],
) -> dict[str, Any]:
    url = base + fake_twilio.messages_path()
    ca = str(server.ca)
    n, c = str(args.n), str(args.concurrency)
    clients: dict[str, list[str]] = {
        "twiliocore_bulk": [PY, "-m", "bench.clients.twiliocore_bulk", base, ca, n, c],
        "curl_multi_c": [str(baseline), *baseline_args(url, ca, args.n, args.concurrency)],
        "twilio_python_async": [PY, "-m", "bench.clients.twilio_async", base, ca, n, c],
        "twilio_python_sync": [
            PY,
            "-m",
            "bench.clients.twilio_sync",
            base,
            ca,
            str(min(args.n, args.sync_sample)),
        ],
    }
    out: dict[str, Any] = {}
    # Repeats are interleaved (each client once per round), so a slow spell of the shared
    # machine falls on every client alike rather than on one client's runs; the order rotates
    # from round to round and each run starts after a pause, so no client always follows the
    # long twilio-python runs (a virtual machine's CPU can lag after a long busy stretch).
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in clients}
    labels = list(clients)
    for round_index in range(args.repeat):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            cmd = clients[label]
            time.sleep(args.pause)
            before = fake_twilio.accepted_connections(server)
            r = run_child(cmd, env)
            r["connections_opened"] = fake_twilio.accepted_connections(server) - before
            runs[label].append(r)
    for label in clients:
        out[label] = summarise(median_run(runs[label]))
        out[label]["rates"] = [
            round(int(r["ok"]) / float(r["wall"]))
            for r in runs[label]
            if r.get("wall") and "ok" in r
        ]
        print(f"  {name:8s} {label:22s} {fmt_row(out[label])}", flush=True)
    rate = out["curl_multi_c"].get("rate", 0) or 1000.0
    duration = min(30.0, max(2.0, args.n / rate * 2)) if not args.quick else 2.0
    before = fake_twilio.accepted_connections(server)
    w = run_wrk(url, args.concurrency, duration, env)
    w["connections_opened"] = fake_twilio.accepted_connections(server) - before
    out["wrk"] = summarise(w)
    print(f"  {name:8s} {'wrk':22s} {fmt_row(out['wrk'])}", flush=True)
    return out


def fmt_row(r: dict[str, Any]) -> str:
    if "error" in r:
        return (
            "ERROR " + r["error"].strip().splitlines()[-1][:200] if r["error"].strip() else "ERROR"
        )
    return (
        f"{r['rate']:>10.0f} msg/s  {r['cpu_us_per_msg']:>8.1f} us/msg  "
        f"{r['peak_rss_kb'] / 1024:>7.1f} MB  conns={r.get('connections_opened')}"
    )


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if "rate" not in a or "rate" not in b or not b["rate"]:
        return None
    return a["rate"] / b["rate"]


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass

    def version(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "n/a"

    import importlib.metadata as md

    def pkg(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "n/a"

    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": version(["nginx", "-v"]),
        "curl": version(["curl", "--version"]),
        "wrk": version(["wrk", "-v"]),
        "twilio": pkg("twilio"),
        "aiohttp": pkg("aiohttp"),
        "requests": pkg("requests"),
        "phonenumbers": pkg("phonenumbers"),
        "twiliocore": pkg("twiliocore"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="messages per client (default 20000)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--sync-sample", type=int, default=2000, help="messages timed for the loop")
    ap.add_argument("--stream-n", type=int, default=1_000_000, help="streamed-recipients run")
    ap.add_argument("--repeat", type=int, default=1, help="runs per client; the median is kept")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each run")
    ap.add_argument("--quick", action="store_true", help="smoke run: small N, no 1M stream")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    ap.add_argument("--md", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-md", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = ap.parse_args()
    if args.quick:
        args.n = min(args.n, 2000)
        args.sync_sample = min(args.sync_sample, 300)
        args.stream_n = min(args.stream_n, 50_000)

    info = machine_info()
    command = "python bench/run_all.py " + " ".join(sys.argv[1:])
    results: dict[str, Any] = {
        "command": command.strip(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "machine": info,
        "n": args.n,
        "concurrency": args.concurrency,
        "sync_sample": min(args.n, args.sync_sample),
        "transports": {},
    }
    print(f"twiliocore benchmark: N={args.n}, concurrency={args.concurrency}", flush=True)
    with tempfile.TemporaryDirectory(prefix="twiliocore-bench-bin-") as tmp:
        baseline = compile_baseline(Path(tmp))
        with fake_twilio.start() as server:
            env = child_env(server.ca)
            same = compare_requests(baseline, str(server.ca), env)
            results["same_request"] = same
            print(f"  twiliocore and the C loop send identical requests: {same['identical']}")
            bases = {
                "http": server.http_url,
                "https": server.https_url,
                "https_h1": server.https_h1_url,
            }
            for name, base in bases.items():
                results["transports"][name] = bench_transport(
                    name, base, server, args, baseline, env
                )
            stream_cmd = [
                PY,
                "-m",
                "bench.clients.twiliocore_stream",
                server.http_url,
                str(server.ca),
                str(args.stream_n),
                str(args.concurrency),
            ]
            results["stream"] = summarise(run_child(stream_cmd, env))
            print(f"  stream {args.stream_n} recipients: {fmt_row(results['stream'])}", flush=True)
    micro = run_child(
        [PY, "-m", "bench.micro"] + (["--quick"] if args.quick else []),
        child_env(Path("/dev/null")),
    )
    results["micro"] = micro
    print(f"  micro: {json.dumps({k: v for k, v in micro.items() if k != 'error'})[:400]}")

    ratios: dict[str, Any] = {}
    for name, t in results["transports"].items():
        ratios[name] = {
            "bulk_vs_curl_multi": ratio(t["twiliocore_bulk"], t["curl_multi_c"]),
            "bulk_vs_twilio_sync": ratio(t["twiliocore_bulk"], t["twilio_python_sync"]),
            "bulk_vs_twilio_async": ratio(t["twiliocore_bulk"], t["twilio_python_async"]),
            "bulk_vs_wrk": ratio(t["twiliocore_bulk"], t["wrk"]),
        }
    results["ratios"] = ratios
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")
    if not args.no_md:
        from bench.report import write_markdown

        write_markdown(results, args.md)
        print(f"wrote {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
