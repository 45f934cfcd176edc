"""SQLite: the writers of one process queue on a lock instead of SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the database locked is
retried by SQLite's busy handler, which *sleeps* between tries (1, 2, 5, 10, ... 100 ms), so
with a few request threads writing at once most of a request's time was spent asleep while
the lock was free (a single send: 140 requests/s at 16 connections, its threads waiting in
``INSERT``). Here the connections of one engine share a lock that a connection takes before
its first write statement and gives back when its transaction ends (commit, rollback or
close): writers of this process wait their turn and are woken the moment it comes, and
SQLite's own lock only sees writers of other processes. Reads (which WAL lets run beside a
writer) never take it.

A writer that waits more than ``timeout`` seconds goes on without the lock, to SQLite's
own locking as before, so that a thread writing through two connections at once fails as it
always did (``database is locked``) instead of waiting forever.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

__all__ = ["serialized_writes_factory"]

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


def serialized_writes_factory(timeout: float = 30.0) -> type[sqlite3.Connection]:
    """A ``sqlite3.connect(factory=...)`` class whose connections share one write lock.

    Args:
        timeout: the longest a writer waits for the lock before going on without it.

    Returns:
        A :class:`sqlite3.Connection` subclass; make one per engine (one lock per database).
    """
    lock = threading.Lock()

    class Cursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
            connection: Connection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().execute(sql, parameters)
            finally:
                connection._after()

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Cursor:
            connection: Connection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().executemany(sql, seq_of_parameters)
            finally:
                connection._after()

    class Connection(sqlite3.Connection):
        _holds = False

        def _before(self, sql: str) -> None:
            if not self._holds and _is_write(sql):
                self._holds = lock.acquire(timeout=timeout)

        def _after(self) -> None:
            # A write outside a transaction (autocommit) is over once it ran; one that
            # failed before SQLite opened a transaction holds nothing either.
            if not self.in_transaction:
                self._release()

        def _release(self) -> None:
            if self._holds:
                self._holds = False
                lock.release()

        def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

        # sqlite3's own shortcuts run the statement without calling the cursor's methods.
        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            return self.cursor().execute(sql, parameters)

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
            return self.cursor().executemany(sql, seq_of_parameters)

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._after()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._after()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._release()

    return Connection
