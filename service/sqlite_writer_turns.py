"""The processes writing one SQLite file take turns on a lock of their own first.

SQLite lets one writer at a time into a file; another finds it busy and sleeps in
its busy handler, 1, 2, 5, 10, 15 ms and longer, however soon the writer is done.
With several HTTP processes on one data directory (each saving creates) beside the
engine and the projection, those sleeps were most of a save's wait: strace counted
hundreds of them a second in a process, and creates had a p99 of 90-190 ms.

So a write transaction first takes the file's turn: a thread lock within the
process, then an exclusive `flock` on `<file>.writers` across processes. A waiting
process looks again after 20 µs, doubling to at most 0.5 ms, so it follows the last
writer closely; SQLite then never finds its lock taken. A turn not had within the
store's lock timeout raises, as SQLite's busy error would. A process that dies holding
its turn gives it up with its file descriptor. Reads never take a turn (WAL readers
do not block writers).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import TYPE_CHECKING

from eventsourcing.persistence import OperationalError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

SUFFIX = ".writers"
FIRST_PAUSE = 0.00002
LONGEST_PAUSE = 0.0005


class WriterTurns:
    """One SQLite file's turns: one holder at a time, across threads and processes."""

    def __init__(self, path: str, timeout: float) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._timeout = timeout
        # Re-entrant: a write that nests another in its thread holds the turn already.
        self._threads = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        deadline = time.monotonic() + self._timeout
        if not self._threads.acquire(timeout=self._timeout):
            raise OperationalError(
                "database is locked (no writer turn in this process)"
            )
        try:
            if self._depth == 0:
                self._take(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _take(self, deadline: float) -> None:
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked (writer turn)") from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
            else:
                return

    def close(self) -> None:
        with self._threads:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def take_turns(datastore: SQLiteDatastore, timeout: float) -> WriterTurns | None:
    """Make `datastore`'s write transactions take the file's turn; None in memory.

    eventsourcing's recorders write through `datastore.transaction(commit=True)`
    (tests/integration/test_store_contract.py checks it), so wrapping it covers
    every save, tracking record and view write of the store.
    """
    pool = datastore.pool
    if pool.is_sqlite_memory_mode:
        return None  # one process: SQLite's own lock is all there is
    turns = WriterTurns(pool.db_name + SUFFIX, timeout)
    transaction = datastore.transaction

    @contextlib.contextmanager
    def taking_turns(*, commit: bool) -> Iterator[SQLiteCursor]:
        if not commit:
            with transaction(commit=False) as curs:
                yield curs
            return
        with turns.held(), transaction(commit=True) as curs:
            yield curs

    datastore.transaction = taking_turns  # type: ignore[method-assign]
    return turns
