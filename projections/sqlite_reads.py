"""Reads of the SQLite view on a connection per thread: one statement, no pool, cached plans.

eventsourcing's datastore wraps every read in a pool checkout, `BEGIN` and `ROLLBACK`
on a connection that caches one prepared statement (`cached_statements=True` is 1),
so each GET re-prepared three statements. A connection of the thread's own,
in autocommit mode, runs one cached statement instead; several statements that must
agree (a page and its count) share one read transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

STATEMENT_CACHE = 64  # every GET/list shape this view runs fits
LOCK_TIMEOUT_SECONDS = 5.0  # only a checkpoint's rare exclusive moment can hold a read
# SQLite's own page cache per connection, in KiB (its default is 2 MiB). Reads are of
# a few pages each, and the OS caches the file for every connection; with a
# connection per thread of a 40-thread pool and two files, the default let each HTTP
# process grow by up to 160 MiB as the files grew.
PAGE_CACHE_KIB = 256


class ThreadReads:
    """A connection to `db_name` for each thread that reads; it only ever reads."""

    def __init__(self, db_name: str) -> None:
        self._db_name = db_name
        self._local = threading.local()
        self._lock = threading.Lock()
        # By the thread that opened it: the pool's idle threads end (anyio's after
        # 10 s) and new ones start, and an ended thread's connection is closed.
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}

    def connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._db_name,
            uri=True,  # as eventsourcing opens it
            isolation_level=None,  # autocommit: a lone SELECT is its own transaction
            check_same_thread=False,  # closed from close(), on another thread
            cached_statements=STATEMENT_CACHE,
            timeout=LOCK_TIMEOUT_SECONDS,
        )
        connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        with self._lock:
            ended = [t for t in self._connections if not t.is_alive()]
            leftovers = [self._connections.pop(thread) for thread in ended]
            self._connections[threading.current_thread()] = connection
        for leftover in leftovers:
            leftover.close()  # its thread is gone: nothing else uses it
        return connection

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self.connection().execute(sql, params).fetchone()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Statements that see the same state of the file (one read transaction)."""
        connection = self.connection()
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
        for connection in connections.values():
            connection.close()
