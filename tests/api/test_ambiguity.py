"""Ambiguity is not failure: lost answers are reconciled, refused credentials stop a job.

Real processes on 127.0.0.1 (the emulator and ``twiliocore serve`` on a SQLite file, as
in ``test_bulk_resume.py``):

- single sends whose connection drops (``drop_after``: created, answer lost; ``drop``:
  nothing happened) answer 202 ``unknown``, never a final ``failed``; each is then found
  in Twilio's message log and recorded with its SID, or, not created, becomes ``failed``;
  none is sent twice;
- single sends left ``pending`` by a stopped process are reconciled at the next start;
- a bulk job whose account is suspended at Twilio in the middle stops early, ``failed``
  with Twilio's reason, its remaining recipients failed with it (not ``unknown``);
- a bulk of 100,000 is accepted in bounded time and memory, its answer small (the invalid
  numbers capped, all of them paged from their own route).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from tests.api.processes import ACCOUNT_SID, AUTH_TOKEN, SENDER, Emulator
from tests.api.test_bulk_resume import RECIPIENTS, _bulk


def _messages(client: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/sms/messages", params={"limit": 500, **filters})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]  # type: ignore[no-any-return]


def _at_emulator(emulator: Emulator) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{emulator.url}/_emulator/messages", params={"from": SENDER}, trust_env=False, timeout=60
    )
    return answer.json()["messages"]  # type: ignore[no-any-return]


def test_lost_answers_of_single_sends_are_unknown_then_reconciled(processes, tmp_path):
    # Every third request or so loses its connection: after the message was created
    # (drop_after) or before anything happened (drop). The client cannot tell which.
    emulator = processes("emulator", "--faults", "drop=0.15,drop_after=0.2", "--seed", "18")
    service = processes("service", tmp_path / "svc.db", emulator, "svc")
    service.wait_up()
    numbers = [f"+1415555{i:04d}" for i in range(9000, 9030)]
    answers: dict[str, httpx.Response] = {}
    with service.client() as client:
        for number in numbers:
            answers[number] = client.post(
                "/api/sms/send", json={"to_number": number, "message": "Maybe sent"}
            )
        codes = Counter(a.status_code for a in answers.values())
        assert set(codes) <= {201, 202}, {n: a.text for n, a in answers.items()}
        lost = [n for n, a in answers.items() if a.status_code == 202]
        assert lost, "no connection was dropped: the faults did not apply"
        for number in lost:
            sent = answers[number].json()
            assert sent["status"] == "unknown" and sent["message_sid"] is None, sent
            assert "may have been sent" in sent["error"], sent
            assert "reconciled" in sent["error"], sent
        # Reconciled on the job queue: found (SID recorded) or, after Twilio's list lag,
        # failed as not created. Nothing stays unknown.
        service.wait(
            lambda: not _messages(client, status="unknown"),
            timeout=150,
            what="every lost answer to be reconciled",
        )
        rows = {m["to"]: m for m in _messages(client) if m["body"] == "Maybe sent"}
    created = {m["to"]: m for m in _at_emulator(emulator) if m["body"] == "Maybe sent"}
    per_recipient = Counter(m["to"] for m in _at_emulator(emulator) if m["body"] == "Maybe sent")
    assert max(per_recipient.values()) == 1  # nobody got it twice
    found = [n for n in lost if n in created]
    not_created = [n for n in lost if n not in created]
    assert found and not_created, (found, not_created)  # both faults happened
    for number in numbers:
        row = rows[number]
        if number in created:
            assert row["message_sid"] == created[number]["sid"], row
            assert row["status"] not in ("unknown", "failed", "pending"), row
        else:
            assert row["status"] == "failed" and row["message_sid"] is None, row
            assert "not created at Twilio" in row["error"], row
    print(f"\n{len(lost)} answers lost: {len(found)} found at Twilio, {len(not_created)} not")


def _create_at_emulator(emulator: Emulator, to: str, body: str) -> str:
    answer = httpx.post(
        f"{emulator.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": to, "From": SENDER, "Body": body},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        trust_env=False,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["sid"])


def test_single_sends_left_pending_by_a_crash_are_reconciled_at_the_next_start(processes, tmp_path):
    emulator = processes("emulator")
    db = tmp_path / "svc.db"
    service = processes("service", db, emulator, "svc")
    service.wait_up()
    service.stop()
    # Two sends recorded before a crash, ten minutes ago: one reached Twilio, one did not.
    reached, never = "+14155558001", "+14155558002"
    sid = _create_at_emulator(emulator, reached, "In flight at the crash")
    written = datetime.now(timezone.utc) - timedelta(minutes=10)
    with sqlite3.connect(db) as conn:
        for number in (reached, never):
            conn.execute(
                "INSERT INTO messages (type, direction, to_number, from_number, body, status,"
                " created_at, updated_at) VALUES ('sms', 'outbound-api', ?, ?, ?, 'pending', ?, ?)",
                (number, SENDER, "In flight at the crash", written, written),
            )
    service.start()
    service.wait_up()

    def settled() -> dict[str, dict[str, Any]] | None:
        rows = {m["to"]: m for m in _messages(client) if m["body"] == "In flight at the crash"}
        return (
            rows if all(r["status"] not in ("pending", "unknown") for r in rows.values()) else None
        )

    with service.client() as client:
        rows = service.wait(settled, timeout=150, what="the lost sends to be reconciled")
    assert rows[reached]["message_sid"] == sid
    assert rows[never]["status"] == "failed" and rows[never]["message_sid"] is None
    assert "not created at Twilio" in rows[never]["error"]
    assert len(_at_emulator(emulator)) == 1  # nothing was sent again


def test_a_bulk_job_whose_account_is_refused_stops_early_with_the_reason(processes, tmp_path):
    # Slow answers keep the job running while the account is suspended at Twilio.
    emulator = processes("emulator", "--faults", "slow=1.0,slow_seconds=0.2")
    service = processes("service", tmp_path / "svc.db", emulator, "svc")
    service.wait_up()
    body = "Refused in the middle"
    with service.client() as client:
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": RECIPIENTS, "message": body}
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        service.wait(lambda: _bulk(client, job_id)["done"] >= 300, what="300 recipients done")
        suspended = httpx.post(
            f"{emulator.url}/_emulator/account", data={"Status": "suspended"}, trust_env=False
        )
        assert suspended.json()["status"] == "suspended"
        suspended_at = time.monotonic()
        job = service.wait(
            lambda: (j := _bulk(client, job_id))["status"] not in ("queued", "running") and j,
            timeout=60,
            what="the job to end",
        )
        stopped_after = time.monotonic() - suspended_at
        results = _bulk(client, job_id, limit=len(RECIPIENTS))["results"]
    assert job["status"] == "failed", job
    assert "20003" in job["error"] and "not sent" in job["error"], job
    assert job["pending"] == 0 and job["counts"].get("unknown", 0) == 0, job["counts"]
    created = {m["to"]: m["sid"] for m in _at_emulator(emulator) if m["body"] == body}
    sent = {r["to"]: r["message_sid"] for r in results if r["message_sid"]}
    assert sent == created  # those sent before are recorded with their SID
    refused = [r for r in results if not r["message_sid"]]
    assert len(refused) == len(RECIPIENTS) - len(created)
    assert len(refused) > len(RECIPIENTS) // 2, "the job was not stopped early"
    for row in refused:
        assert row["status"] == "failed" and row["error_code"] == 20003, row
        assert "Authentication Error" in row["error"], row
    # Stopped at once, not after trying every remaining recipient at 0.2 s per 64.
    assert stopped_after < 15, stopped_after
    print(f"\nsuspended after {len(created)} sent; {len(refused)} failed with the reason")


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_a_bulk_of_100000_is_accepted_in_bounded_time_and_memory(processes, tmp_path):
    # Intake only (no worker: the job stays queued): 100,000 valid numbers and 1,000
    # invalid ones, accepted with a small answer; the service's RSS, sampled from /proc
    # while the request runs, grows by less than 64 MB.
    emulator = processes("emulator")
    service = processes("service", tmp_path / "svc.db", emulator, "svc")
    service.stop()
    service.env.update(RUN_WORKER="false", MAX_BULK_RECIPIENTS="200000")
    service.start()
    service.wait_up()
    valid = [f"+1415{2000000 + i:07d}" for i in range(100_000)]
    invalid = [f"12{i}" for i in range(1000)]
    with service.client() as client:
        client.get("/api/users/me")  # warm: the first request loads what every one needs
        before = _rss_kb(service.pid)
        peak = before
        sampling = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not sampling.wait(0.02):
                peak = max(peak, _rss_kb(service.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        try:
            answer = client.post(
                "/api/sms/send-bulk",
                json={"phone_numbers": valid + invalid, "message": "Big intake"},
                timeout=120,
            )
        finally:
            took = time.monotonic() - started
            sampling.set()
            sampler.join()
        peak = max(peak, _rss_kb(service.pid))
        assert answer.status_code == 202, answer.text[:500]
        accepted = answer.json()
        assert (accepted["accepted"], accepted["invalid_count"]) == (100_000, 1000)
        assert [i["number"] for i in accepted["invalid"]] == invalid[:100]  # capped
        assert len(answer.content) < 16_384
        pages = [
            client.get(
                f"/api/sms/bulk/{accepted['job_id']}/invalid",
                params={"limit": 400, "offset": offset},
            ).json()
            for offset in (0, 400, 800)
        ]
        assert [p["count"] for p in pages] == [1000] * 3
        assert [i["number"] for p in pages for i in p["data"]] == invalid  # all, in order
        job = _bulk(client, accepted["job_id"])
        assert (job["pending"], job["invalid_count"]) == (100_000, 1000)
    growth_mb = (peak - before) / 1024
    print(f"\n100,000 recipients accepted in {took:.1f}s; RSS +{growth_mb:.1f} MB")
    assert took < 60, took  # generous: about 3 s on a quiet development machine
    assert growth_mb < 64, growth_mb
