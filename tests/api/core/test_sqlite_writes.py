"""SQLite writers of one process queue on a lock (core/sqlite_writes.py), not on SQLite's
sleeping busy handler; reads never take it, and a writer never waits forever."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from twiliocore_api.core.db import make_engine
from twiliocore_api.core.sqlite_writes import serialized_writes_factory


def _connect(path: Path, factory: type[sqlite3.Connection]) -> sqlite3.Connection:
    # No busy timeout at all: a writer finding the database locked fails at once, unless
    # the lock made it wait its turn.
    conn = sqlite3.connect(path, timeout=0, factory=factory, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def _table(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")


def _write_from_threads(path: Path, factory: type[sqlite3.Connection]) -> list[BaseException]:
    errors: list[BaseException] = []
    # Connected one after another here: a connection setting WAL while another writes would
    # find the database locked (no busy timeout), and a writer that never reached the
    # barrier would leave the others waiting on it for good.
    conns = [_connect(path, factory) for _ in range(8)]
    start = threading.Barrier(8, timeout=60)

    def writer(n: int) -> None:
        conn = conns[n]
        try:
            start.wait()
            for i in range(40):
                conn.execute("INSERT INTO t (v) VALUES (?)", (f"{n}-{i}",))
                conn.execute("UPDATE t SET v = v WHERE id = 1")
                conn.commit()
        except (sqlite3.OperationalError, threading.BrokenBarrierError) as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_writers_of_one_process_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _table(path)
    assert _write_from_threads(path, serialized_writes_factory()) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (320,)


def test_without_the_lock_the_same_writers_collide(tmp_path: Path) -> None:
    # What the lock is for: the same load on plain connections finds the database locked.
    path = tmp_path / "db.sqlite"
    _table(path)
    errors = _write_from_threads(path, sqlite3.Connection)
    assert errors and all("locked" in str(e) for e in errors)


def test_the_lock_is_given_back_after_a_rollback_and_a_failed_write(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _table(path)
    factory = serialized_writes_factory(timeout=5)
    a, b = _connect(path, factory), _connect(path, factory)
    a.execute("INSERT INTO t (v) VALUES ('x')")
    a.rollback()
    a.execute("INSERT INTO t (v) VALUES ('y')")
    a.commit()
    with pytest.raises(sqlite3.IntegrityError):
        a.execute("INSERT INTO t (v) VALUES ('y')")
    a.rollback()
    b.execute("INSERT INTO t (v) VALUES ('z')")  # would wait 5 s if a still held the lock
    b.commit()
    a.close()
    b.close()


def test_reads_run_beside_a_writer_and_a_writer_never_waits_forever(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _table(path)
    factory = serialized_writes_factory(timeout=0.2)
    writer, other = _connect(path, factory), _connect(path, factory)
    writer.execute("INSERT INTO t (v) VALUES ('w')")  # holds the lock, uncommitted
    assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)
    # The same thread writing through a second connection: after the lock's timeout it
    # meets SQLite's own lock and fails, as it did before the lock existed.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("INSERT INTO t (v) VALUES ('o')")
    other.rollback()
    writer.commit()
    other.execute("INSERT INTO t (v) VALUES ('o')")
    other.commit()
    writer.close()
    other.close()


def test_the_service_engine_uses_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'svc.db'}")
    with engine.connect() as conn:
        assert type(conn.connection.dbapi_connection).__name__ == "Connection"
        assert type(conn.connection.dbapi_connection) is not sqlite3.Connection
        conn.execute(text("CREATE TABLE t (v TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('a')"))
        conn.commit()
    engine.dispose()
