"""projections.sqlite_reads: a connection per reading thread, none left by ended threads."""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

from projections.sqlite_reads import PAGE_CACHE_KIB, ThreadReads

if TYPE_CHECKING:
    from pathlib import Path


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    path = tmp_path / "view.sqlite"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x INTEGER)")
        setup.execute("INSERT INTO t VALUES (7)")
    reads = ThreadReads(str(path))
    seen: list[int] = []
    opened: list[sqlite3.Connection] = []

    def read_once() -> None:
        seen.append(reads.one("SELECT x FROM t", ())[0])
        opened.append(reads.connection())

    try:
        # A pool whose idle threads end and are replaced, 50 times over.
        for _ in range(50):
            thread = threading.Thread(target=read_once)
            thread.start()
            thread.join()
        assert seen == [7] * 50
        # Each new thread's first read closed the ended threads' connections.
        assert reads.open_connections == 1
        closed = 0
        for connection in opened[:-1]:
            try:
                connection.execute("SELECT 1")
            except sqlite3.ProgrammingError:  # "Cannot operate on a closed database"
                closed += 1
        assert closed == 49
        cache = reads.one("PRAGMA cache_size", ())[0]
        assert cache == -PAGE_CACHE_KIB
    finally:
        reads.close()
    assert reads.open_connections == 0
