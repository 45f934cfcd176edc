"""Bulk jobs resumed after a stop or a crash send every recipient exactly once.

Runs the emulator and ``twiliocore serve`` as real processes on 127.0.0.1 sharing one
SQLite file, stops the service (SIGKILL at several points, or SIGTERM) in the middle of a
5,000-recipient job, restarts it and checks that the job resumes by itself and every
recipient is created exactly once at the emulator and recorded with its SID; and that two
service processes on one database leave each other's live jobs alone and start together
cleanly.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from twiliocore_api.models import utcnow

from tests.api.processes import ADMIN, LEASE_SECONDS, Emulator

RECIPIENTS = [f"+1415555{i:04d}" for i in range(5000)]


def test_resume_reconciles_ambiguous_recipients_before_sending(start_service, wait_for):
    # A job stopped with two recipients handed to the fan-out and no outcome recorded. One
    # was created at Twilio (its answer lost): it is found and recorded, not sent again.
    # The other was not; Twilio's log holds an older message with the same text to it that
    # another send recorded: that one is not taken for ours, and the recipient is sent.
    from twiliocore_api.models import BulkJob, Message
    from twiliocore_api.services.bulk import BULK_SEND

    svc = start_service()
    seen_before, lost_answer = "+14155550301", "+14155550302"
    with svc.admin() as client:
        single = client.post("/api/sms/send", json={"to_number": seen_before, "message": "Same"})
        assert single.status_code == 201, single.text
    earlier_sid = single.json()["message_sid"]
    twilio = svc.messenger.client()
    created = twilio.messages.create(to=lost_answer, from_="+15005550006", body="Same")
    with svc.messenger.session_factory() as session:
        session.add(
            BulkJob(
                id="resumed-job",
                type="sms",
                body="Same",
                status="running",
                started_at=utcnow() - timedelta(seconds=5),
                total=2,
                accepted=2,
                duplicates=0,
                invalid=[],
            )
        )
        rows = [
            Message(
                bulk_job_id="resumed-job",
                type="sms",
                direction="outbound-api",
                to_number=number,
                from_number="+15005550006",
                body="Same",
                status="pending",
            )
            for number in (seen_before, lost_answer)
        ]
        session.add_all(rows)
        session.flush()
        session.get(BulkJob, "resumed-job").submitted_through = max(m.id for m in rows)
        svc.app.state.job_queue.enqueue(session, BULK_SEND, ref="resumed-job")
        session.commit()
    svc.app.state.worker.wake()
    with svc.admin() as client:
        job = wait_for(
            lambda: (
                (j := client.get("/api/sms/bulk/resumed-job").json())["status"] == "completed" and j
            ),
            what="the resumed job",
        )
    recorded = {r["to"]: r["message_sid"] for r in job["results"]}
    assert recorded[lost_answer] == created.sid
    assert recorded[seen_before] not in (None, earlier_sid)
    at_twilio = Counter(m["to"] for m in svc.emulator.messages() if m["body"] == "Same")
    assert at_twilio == {seen_before: 2, lost_answer: 1}


# ---------------------------------------------------------------------------- real processes


def _bulk(client: httpx.Client, job_id: str, limit: int = 1) -> dict[str, Any]:
    answer = client.get(f"/api/sms/bulk/{job_id}", params={"limit": limit})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _queue_row(db: Path, job_id: str) -> tuple[str, str | None, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT status, lease_owner, attempts FROM jobs WHERE kind = 'bulk_send' AND ref = ?",
            (job_id,),
        ).fetchone()
    return row[0], row[1], row[2]


def _check_sent_once_and_recorded(
    emulator: Emulator, client: httpx.Client, job_id: str, body: str, recipients: list[str]
) -> dict[str, Any]:
    job = emulator.wait(
        lambda: (j := _bulk(client, job_id))["status"] == "completed" and j,
        timeout=90,
        what="the job to complete",
    )
    assert job["pending"] == 0
    created = emulator.created(body)
    per_recipient = Counter(m["to"] for m in created)
    assert sorted(per_recipient) == sorted(recipients)  # every recipient created...
    assert max(per_recipient.values()) == 1  # ...exactly once
    results = _bulk(client, job_id, limit=len(recipients))["results"]
    recorded = {r["to"]: r["message_sid"] for r in results}
    assert recorded == {m["to"]: m["sid"] for m in created}  # each with its SID
    return job


def _reconciled(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "whose outcome was lost" in line]


@pytest.mark.parametrize(
    ("signum", "kill_after"),
    [
        (signal.SIGKILL, 1),
        (signal.SIGKILL, 2500),
        (signal.SIGKILL, 4000),
        (signal.SIGTERM, 2000),  # a clean stop releases the job; the next start resumes it
    ],
    ids=["kill-9-first-sent", "kill-9-mid-job", "kill-9-near-end", "sigterm-mid-job"],
)
def test_a_stopped_bulk_job_resumes_at_restart_and_sends_everyone_once(
    processes, tmp_path, signum, kill_after
):
    emulator = processes("emulator")
    db = tmp_path / "service.db"
    service = processes("service", db, emulator, "svc")
    service.wait_up()
    body = f"Stopped by {signal.Signals(signum).name} after {kill_after}"
    with service.client() as client:
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": RECIPIENTS, "message": body}
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        service.wait(
            lambda: _bulk(client, job_id)["done"] >= kill_after,
            timeout=180,
            what=f"{kill_after} done",
        )
    service.kill(signum)
    created_at_kill = len(emulator.created(body))
    with sqlite3.connect(db, timeout=30) as conn:
        recorded_at_kill = conn.execute(
            "SELECT count(*) FROM messages WHERE bulk_job_id = ? AND message_sid IS NOT NULL",
            (job_id,),
        ).fetchone()[0]
    assert recorded_at_kill < len(RECIPIENTS), "the job ended before the kill"
    service.start()
    service.wait_up()
    with service.client() as client:
        job = _check_sent_once_and_recorded(emulator, client, job_id, body, RECIPIENTS)
    assert job["counts"].get("unknown", 0) == 0
    assert _queue_row(db, job_id)[0] == "done"
    print(
        f"\n{signal.Signals(signum).name} after {kill_after} done: {created_at_kill} created "
        f"at the emulator, {recorded_at_kill} recorded with a SID at the kill; after the restart: "
        f"{'; '.join(_reconciled(service.log)) or 'nothing ambiguous'}; "
        f"{len(RECIPIENTS)} created once each and recorded"
    )


def test_two_services_on_one_database_never_touch_each_others_live_jobs(processes, tmp_path):
    # Slow answers (1 s each, 64 in flight: about 40 s for the job) make it last while B
    # starts and watches.
    emulator = processes("emulator", "--faults", "slow=1.0,slow_seconds=1.0")
    db = tmp_path / "shared.db"
    first = processes("service", db, emulator, "a")
    first.wait_up()
    recipients = RECIPIENTS[:2500]
    body = "Shared database"
    with first.client() as client:
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": recipients, "message": body}
        )
        job_id = answer.json()["job_id"]
        first.wait(
            lambda: _bulk(client, job_id)["done"] >= 100, timeout=120, what="A to start the job"
        )
    second = processes("service", db, emulator, "b")
    second.wait_up()
    # While A's lease is alive, B leaves the job alone (no steal, no "interrupted").
    watched_until = time.monotonic() + 2 * LEASE_SECONDS
    with second.client() as client:
        while time.monotonic() < watched_until:
            status, owner, attempts = _queue_row(db, job_id)
            assert (status, attempts) == ("running", 1)
            assert owner is not None and f":{first.pid}:" in owner
            job = _bulk(client, job_id)
            assert job["status"] == "running", job
            assert job["done"] < len(recipients), "the job ended before B could watch"
            time.sleep(0.2)
    first.kill()
    killed_at = time.monotonic()
    second.wait(
        lambda: f":{second.pid}:" in (_queue_row(db, job_id)[1] or ""),
        timeout=90,
        what="B to take the job over",
    )
    assert time.monotonic() - killed_at > LEASE_SECONDS / 3  # only once A's lease expired
    with second.client() as client:
        _check_sent_once_and_recorded(emulator, client, job_id, body, recipients)
    print(f"\ntwo services: B resumed A's job; {'; '.join(_reconciled(second.log))}")


def test_two_services_started_together_on_a_fresh_database(processes, tmp_path):
    emulator = processes("emulator")
    db = tmp_path / "fresh.db"
    services = [processes("service", db, emulator, name) for name in ("a", "b")]
    for service in services:
        service.wait_up()
    for service in services:
        with service.client() as client:
            assert client.get("/api/users/me").json()["email"] == ADMIN["email"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1
    for service in services:
        assert "Traceback" not in service.log.read_text()
