"""Bulk through the REST service against ``Client.bulk_send``, on one fake Twilio, in one run.

usage: python -m bench.service_bulk [--sizes 5000,100000] [--intake 1000000] [--json FILE]

For each size N:

- **peer**: ``Client.bulk_send`` of N recipients (in this process) to the fake endpoint
  (nginx, :mod:`bench.fake_twilio`, one SID per message);
- **service**: ``twiliocore serve`` (SQLite, its own process) pointed at the same endpoint;
  ``POST /api/sms/send-bulk`` with N recipients, timed from the request to the 202 and to
  the moment every recipient is recorded with its SID (no recipient ``pending``, checked in
  the database; then every one is checked to hold a SID). The service's RSS is sampled
  from ``/proc`` every 20 ms: its growth is the peak during the job minus the RSS before
  the request.

``ratio`` is the service's recipients/s from the 202 to all recorded over the peer's (the
issue's measure); ``ratio_from_request`` counts the intake too. ``--intake``
sizes are accepted only (time to the 202 and peak RSS; ``MAX_BULK_RECIPIENTS`` raised to
fit), for numbers the job is not run to the end (a million at the fake's pace is a
benchmark of SQLite, not of intake). Both sides send from a short code (100 segments/s at
Twilio, so no pacing applies below 3.6 M messages) with the same window (64).

``main(argv)`` returns the results as a dict (also printed as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import fake_twilio
from bench._common import ACCOUNT_SID, AUTH_TOKEN, BODY, recipient

# A short code: Twilio's 100 segments/s for it queue 3.6 M messages before pacing starts.
SENDER = "22395"
ADMIN = {"email": "bench@example.com", "password": "bench-password-123"}


def _port() -> int:
    return fake_twilio.free_port()


def rss_kb(pid: int) -> int:
    """The resident set size of ``pid`` in KiB (``VmRSS`` from ``/proc``)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _Sampler:
    """Samples a process's RSS every ``interval`` seconds; ``peak`` is the highest seen."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.peak = rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_kb(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kb(self.pid))
        return self.peak


class Service:
    """``twiliocore serve`` on a fresh SQLite file, pointed at ``base_url``."""

    def __init__(self, base_url: str, directory: Path, max_recipients: int) -> None:
        self.db = directory / "service.db"
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TWILIO_", "DATABASE_URL", "SECRET_KEY", "ADMIN_", "JOB_"))
        }
        env.update(
            DATABASE_URL=f"sqlite:///{self.db}",
            SECRET_KEY="bench-secret-key-0123456789abcdef",
            ADMIN_EMAIL=ADMIN["email"],
            ADMIN_PASSWORD=ADMIN["password"],
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_PHONE_NUMBER=SENDER,
            TWILIO_API_BASE_URL=base_url,
            SEND_RATE_LIMIT="100000",
            MAX_BULK_RECIPIENTS=str(max_recipients),
            JOB_POLL_SECONDS="0.1",
        )
        self.log = (directory / "service.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twiliocore", "serve", "--port", str(self.port)],
            env=env,
            cwd=directory,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited; see {directory / 'service.log'}")
            try:
                if httpx.get(f"{self.url}/api/health", trust_env=False).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.1)
        self.client = httpx.Client(base_url=self.url, trust_env=False, timeout=600)
        token = self.client.post("/api/auth/login", json=ADMIN).json()["access_token"]
        self.client.headers["Authorization"] = f"Bearer {token}"

    def pending(self, job_id: str) -> bool:
        """Whether a recipient of the job is still pending (by the status index)."""
        with sqlite3.connect(self.db, timeout=60) as conn:
            row = conn.execute(
                "SELECT 1 FROM messages WHERE status = 'pending' AND bulk_job_id = ? LIMIT 1",
                (job_id,),
            ).fetchone()
        return row is not None

    def recorded(self, job_id: str) -> tuple[int, int]:
        """(pending, recorded with a SID) of a job, read from the database."""
        with sqlite3.connect(self.db, timeout=60) as conn:
            pending, with_sid = conn.execute(
                "SELECT sum(status = 'pending'), count(message_sid) FROM messages"
                " WHERE bulk_job_id = ?",
                (job_id,),
            ).fetchone()
        return int(pending or 0), int(with_sid or 0)

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def peer(base_url: str, n: int) -> dict[str, Any]:
    """``Client.bulk_send`` of ``n`` recipients: wall time and rate."""
    import twiliocore

    with twiliocore.Client(ACCOUNT_SID, AUTH_TOKEN, base_url=base_url) as client:
        client.bulk_send([recipient(i) for i in range(64)], BODY, from_=SENDER).wait()
        started = time.perf_counter()
        summary = client.bulk_send(
            (recipient(i) for i in range(n)), BODY, from_=SENDER, keep_results=False
        ).wait()
        wall = time.perf_counter() - started
    assert summary["sent"] == n, summary
    return {"seconds": round(wall, 3), "rate": round(n / wall, 1)}


def through_service(service: Service, n: int, *, run: bool = True) -> dict[str, Any]:
    """POST a bulk of ``n``; time to the 202 and (``run``) to every recipient recorded."""
    numbers = [recipient(i) for i in range(n)]
    payload = json.dumps({"phone_numbers": numbers, "message": BODY}).encode()
    del numbers
    rss_before = rss_kb(service.proc.pid)
    sampler = _Sampler(service.proc.pid)
    started = time.perf_counter()
    answer = service.client.post(
        "/api/sms/send-bulk", content=payload, headers={"Content-Type": "application/json"}
    )
    accepted = time.perf_counter() - started
    assert answer.status_code == 202, answer.text[:500]
    job_id = answer.json()["job_id"]
    result: dict[str, Any] = {
        "request_bytes": len(payload),
        "answer_bytes": len(answer.content),
        "seconds_to_202": round(accepted, 3),
    }
    if run:
        # Polls another process's database: at most every 2% of the time so far, so the
        # polling neither loads the machine nor blurs the time by more than 2%.
        while service.pending(job_id):
            time.sleep(max(0.01, (time.perf_counter() - started) / 50))
        done = time.perf_counter() - started
        pending, with_sid = service.recorded(job_id)
        assert (pending, with_sid) == (0, n), (pending, with_sid)
        result.update(
            seconds_to_recorded=round(done, 3),
            # The target's measure: from the 202 to every recipient recorded with its SID.
            rate=round(n / (done - accepted), 1),
            rate_from_request=round(n / done, 1),
        )
    peak = sampler.stop()
    result.update(
        rss_before_mib=round(rss_before / 1024, 1),
        rss_peak_mib=round(peak / 1024, 1),
        rss_growth_mib=round((peak - rss_before) / 1024, 1),
    )
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison; returns (and prints) the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,100000", help="recipients, run to the end")
    parser.add_argument("--intake", default="", help="recipients, time to the 202 only")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    intakes = [int(x) for x in args.intake.split(",") if x]
    results: dict[str, Any] = {"bulk": [], "intake": []}
    with fake_twilio.start(unique_sids=True) as fake, tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            directory = Path(tmp) / f"run-{n}"
            directory.mkdir()
            service = Service(fake.http_url, directory, max(n, 10_000))
            try:
                rest = through_service(service, n)
            finally:
                service.stop()
            direct = peer(fake.http_url, n)
            row = {
                "recipients": n,
                "service": rest,
                "client_bulk_send": direct,
                "ratio": round(rest["rate"] / direct["rate"], 3),
                "ratio_from_request": round(rest["rate_from_request"] / direct["rate"], 3),
            }
            results["bulk"].append(row)
            print(json.dumps(row), flush=True)
        for n in intakes:
            directory = Path(tmp) / f"intake-{n}"
            directory.mkdir()
            service = Service(fake.http_url, directory, n)
            try:
                row = {"recipients": n, "service": through_service(service, n, run=False)}
            finally:
                service.stop()
            results["intake"].append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
