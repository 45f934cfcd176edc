"""The job queue: claims, leases, the sweeper, heartbeats and the worker.

:class:`SqlJobQueue` and :class:`Worker` on a SQLite file (and PostgreSQL when its server
binaries are installed), with concurrent claimers in threads and in processes. Bulk jobs
resumed through the queue are tested in ``test_bulk_resume.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from twiliocore_api.core.db import make_engine, make_session_factory, run_migrations
from twiliocore_api.models import Job, utcnow
from twiliocore_api.worker import Lease, RetryLater, SqlJobQueue, Worker

# ---------------------------------------------------------------------------- the queue


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    engine = make_engine(url)
    run_migrations(engine)
    engine.dispose()
    return url


@pytest.fixture
def make_queue(db_url: str) -> Iterator[Callable[..., SqlJobQueue]]:
    engines = []

    def make(lease_seconds: float = 0.5, **kwargs: Any) -> SqlJobQueue:
        engine = make_engine(db_url)
        engines.append(engine)
        return SqlJobQueue(make_session_factory(engine), lease_seconds=lease_seconds, **kwargs)

    yield make
    for engine in engines:
        engine.dispose()


def _enqueue(queue: SqlJobQueue, count: int, kind: str = "k", **kwargs: Any) -> list[str]:
    with queue.session_factory() as session:
        ids = [queue.enqueue(session, kind, ref=f"r{i}", **kwargs) for i in range(count)]
        session.commit()
    return ids


def _job(queue: SqlJobQueue, job_id: str) -> Job:
    with queue.session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_claims_by_threads_never_overlap(make_queue):
    queue = make_queue()
    ids = _enqueue(queue, 60)
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()
    ready = threading.Barrier(6)

    def claimer(n: int) -> None:
        mine = make_queue()  # its own engine, as another process would have
        ready.wait()
        while True:
            leases = mine.claim(["k"], owner=f"thread-{n}", limit=3)
            if not leases:
                return
            with lock:
                claimed.extend((lease.job_id, lease.owner) for lease in leases)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(job_id for job_id, _ in claimed) == sorted(ids)


def test_claims_on_postgres_never_overlap(postgres_url):
    # FOR UPDATE SKIP LOCKED picks the candidates; the conditional UPDATE decides.
    engine = make_engine(postgres_url)
    run_migrations(engine)
    engine.dispose()
    engines = [make_engine(postgres_url) for _ in range(4)]
    queues = [SqlJobQueue(make_session_factory(e), lease_seconds=30) for e in engines]
    ids = _enqueue(queues[0], 80)
    claimed: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(queues))

    def claimer(queue: SqlJobQueue, n: int) -> None:
        ready.wait()
        while leases := queue.claim(["k"], owner=f"pg-{n}", limit=3):
            with lock:
                claimed.extend(lease.job_id for lease in leases)

    threads = [threading.Thread(target=claimer, args=(q, n)) for n, q in enumerate(queues)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert sorted(claimed) == sorted(ids)


_CLAIMER = """
import json, sys
from twiliocore_api.core.db import make_engine, make_session_factory
from twiliocore_api.worker import SqlJobQueue
queue = SqlJobQueue(make_session_factory(make_engine(sys.argv[1])), lease_seconds=30)
got = []
while True:
    leases = queue.claim(["k"], owner=sys.argv[2], limit=2)
    if not leases:
        break
    got.extend(lease.job_id for lease in leases)
print(json.dumps(got))
"""


def test_claims_by_processes_never_overlap(make_queue, db_url):
    ids = _enqueue(make_queue(), 150)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, db_url, f"proc-{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    got = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        got.extend(json.loads(out))
    assert sorted(got) == sorted(ids)


def test_an_expired_lease_is_swept_back_and_its_holder_fenced_off(make_queue):
    queue = make_queue(lease_seconds=0.4)
    [job_id] = _enqueue(queue, 1)
    [first] = queue.claim(["k"], owner="a")
    assert first.attempt == 1
    assert queue.claim(["k"], owner="b") == []  # held
    assert queue.sweep() == (0, [])  # alive
    assert queue.heartbeat(first)
    time.sleep(0.6)
    assert queue.claim(["k"], owner="b") == []  # expired but not swept yet
    assert queue.sweep(alive=[first.token]) == (0, [])  # the holder knows it is alive
    requeued, given_up = queue.sweep()
    assert (requeued, given_up) == (1, [])
    [second] = queue.claim(["k"], owner="b")
    assert (second.job_id, second.attempt) == (job_id, 2)
    # The first holder can change nothing any more.
    assert not queue.heartbeat(first)
    assert not queue.complete(first)
    assert not queue.release(first)
    assert not queue.fail(first, "late")
    assert queue.complete(second)
    job = _job(queue, job_id)
    assert (job.status, job.lease_owner, job.attempts) == ("done", None, 2)


def test_heartbeats_keep_a_lease_alive_past_its_length(make_queue):
    queue = make_queue(lease_seconds=0.3)
    _enqueue(queue, 1)
    [lease] = queue.claim(["k"], owner="a")
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        assert queue.heartbeat(lease)
        assert queue.sweep() == (0, [])
        time.sleep(0.05)
    assert _job(queue, lease.job_id).lease_owner == "a"


def test_timed_work_is_claimed_only_when_due(make_queue):
    queue = make_queue()
    with queue.session_factory() as session:
        job_id = queue.enqueue(
            session, "release_number", ref="PN1", run_at=utcnow() + timedelta(seconds=0.5)
        )
        session.commit()
    assert queue.claim(["release_number"], owner="a") == []
    time.sleep(0.6)
    [lease] = queue.claim(["release_number"], owner="a")
    assert lease.job_id == job_id


def test_one_live_job_per_kind_and_ref(make_queue):
    queue = make_queue()
    [first] = _enqueue(queue, 1)
    [again] = _enqueue(queue, 1)
    assert again == first
    [lease] = queue.claim(["k"], owner="a")
    assert queue.complete(lease)
    [requeued] = _enqueue(queue, 1)  # a finished job is queued again
    assert requeued == first
    assert _job(queue, first).status == "queued"


def test_fail_retries_while_attempts_remain_and_release_is_not_an_attempt(make_queue):
    queue = make_queue(max_attempts=2)
    [job_id] = _enqueue(queue, 1)
    [lease] = queue.claim(["k"], owner="a")
    assert queue.release(lease)
    assert _job(queue, job_id).attempts == 0
    [lease] = queue.claim(["k"], owner="a")
    assert queue.fail(lease, "Twilio unreachable", retry_in=0.0)
    job = _job(queue, job_id)
    assert (job.status, job.last_error) == ("queued", "Twilio unreachable")
    [lease] = queue.claim(["k"], owner="a")
    assert lease.attempt == 2
    assert queue.fail(lease, "still unreachable", retry_in=0.0)
    assert _job(queue, job_id).status == "failed"  # attempts used up


def test_a_job_whose_worker_keeps_dying_is_given_up(make_queue):
    queue = make_queue(lease_seconds=0.2, max_attempts=1)
    [job_id] = _enqueue(queue, 1)
    queue.claim(["k"], owner="dies")
    time.sleep(0.3)
    requeued, given_up = queue.sweep()
    assert requeued == 0
    assert [(j.id, j.kind, j.ref) for j in given_up] == [(job_id, "k", "r0")]
    assert _job(queue, job_id).status == "failed"


def test_worker_acknowledges_after_the_work_and_releases_at_stop(make_queue, wait_for):
    queue = make_queue(lease_seconds=0.6)
    done_id, long_id, retry_id = _enqueue(queue, 3)
    seen: list[str] = []

    def handler(lease: Lease, stop: threading.Event) -> bool:
        seen.append(lease.job_id)
        if lease.job_id == retry_id:
            raise RetryLater("not now", delay=60)
        if lease.job_id == long_id:
            stop.wait(30)  # runs past several lease lengths: heartbeats keep it
            return False
        return True

    worker = Worker(queue, concurrency=3, poll_seconds=0.05)
    worker.register("k", handler)
    worker.start()
    try:
        wait_for(lambda: _job(queue, done_id).status == "done", what="the short job")
        wait_for(lambda: _job(queue, retry_id).status == "queued", what="the retry")
        time.sleep(1.5)
        long_job = _job(queue, long_id)
        assert (long_job.status, long_job.lease_owner) == ("running", worker.identity)
        assert long_job.attempts == 1
    finally:
        worker.stop()
    assert _job(queue, long_id).status == "queued"  # released, resumed by the next worker
    assert _job(queue, retry_id).run_at > utcnow() + timedelta(seconds=50)
    assert sorted(seen) == sorted([done_id, long_id, retry_id])


def test_worker_stops_a_job_whose_lease_was_taken(make_queue, wait_for):
    queue = make_queue(lease_seconds=0.6)
    [job_id] = _enqueue(queue, 1)
    stopped = threading.Event()

    def handler(lease: Lease, stop: threading.Event) -> bool:
        if stop.wait(30):
            stopped.set()
        return True  # claims to be done: must not be acknowledged

    worker = Worker(queue, poll_seconds=0.05)
    worker.register("k", handler)
    worker.start()
    try:
        wait_for(lambda: _job(queue, job_id).status == "running", what="the claim")
        with queue.session_factory() as session:  # another worker took the job over
            session.execute(update(Job).values(lease_token="someone-else", lease_owner="b"))
            session.commit()
        assert stopped.wait(10)
        time.sleep(0.2)
    finally:
        worker.stop()
    job = _job(queue, job_id)
    assert (job.status, job.lease_owner) == ("running", "b")
