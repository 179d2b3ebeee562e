"""The registry of job-engine workers: who runs jobs, where, since when, how busy.

Each process that runs jobs (`serve`'s engine, every `jobstream worker`) writes its
row every few seconds (`service.engine.heartbeat`); /admin/jobstream/system and
/metrics read them. A row not written for a while is shown as not alive, and one
silent for an hour is removed. PostgreSQL in production (`jobstream_workers`); the
embedded default keeps it in `<data dir>/workers.sqlite`, which every HTTP process
of `serve --workers N` reads.
"""

from __future__ import annotations

import contextlib
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from service import data_dir, pg_timeouts

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from service.settings import Settings

FORGET_AFTER = timedelta(hours=1)  # a silent worker's row is removed after this


@dataclass(frozen=True)
class WorkerEntry:
    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    in_flight: int


class WorkerRegistry(ABC):
    @abstractmethod
    def beat(self, entry: WorkerEntry) -> None:
        """Record the worker's row (insert or replace), and forget silent workers."""

    @abstractmethod
    def remove(self, worker_id: str) -> None:
        """A worker that stops says so."""

    @abstractmethod
    def workers(self) -> list[WorkerEntry]:
        """Every worker seen within FORGET_AFTER, by id."""


class PostgresWorkerRegistry(WorkerRegistry):
    def __init__(self, url: str) -> None:
        self._url = url
        with self._connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('jobstream-workers'))")
            conn.execute(_PG_CREATE)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        with psycopg.connect(
            pg_timeouts.with_timeouts(self._url), row_factory=dict_row
        ) as conn:
            yield conn

    def beat(self, entry: WorkerEntry) -> None:
        with self._connection() as conn:
            conn.execute(_PG_UPSERT, _values(entry))
            conn.execute(
                "DELETE FROM jobstream_workers WHERE last_seen < %s",
                (entry.last_seen - FORGET_AFTER,),
            )

    def remove(self, worker_id: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM jobstream_workers WHERE id = %s", (worker_id,))

    def workers(self) -> list[WorkerEntry]:
        with self._connection() as conn:
            rows = conn.execute(_SELECT, (_now() - FORGET_AFTER,)).fetchall()
        return [WorkerEntry(**row) for row in rows]


class SQLiteWorkerRegistry(WorkerRegistry):
    def __init__(self, path: Path) -> None:
        self._path = path
        with self._connection() as conn:
            conn.execute(_SQLITE_CREATE)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self._path, timeout=5.0)
        try:
            with conn:  # one transaction, committed on success
                yield conn
        finally:
            conn.close()

    def beat(self, entry: WorkerEntry) -> None:
        values = _values(entry)
        values["started_at"] = _text(entry.started_at)
        values["last_seen"] = _text(entry.last_seen)
        with self._connection() as conn:
            conn.execute(_SQLITE_UPSERT, values)
            conn.execute(
                "DELETE FROM jobstream_workers WHERE last_seen < ?",
                (_text(entry.last_seen - FORGET_AFTER),),
            )

    def remove(self, worker_id: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM jobstream_workers WHERE id = ?", (worker_id,))

    def workers(self) -> list[WorkerEntry]:
        with self._connection() as conn:
            rows = conn.execute(
                _SELECT.replace("%s", "?"), (_text(_now() - FORGET_AFTER),)
            ).fetchall()
        return [
            WorkerEntry(
                id=id_,
                host=host,
                pid=pid,
                started_at=datetime.fromisoformat(started_at),
                last_seen=datetime.fromisoformat(last_seen),
                in_flight=in_flight,
            )
            for id_, host, pid, started_at, last_seen, in_flight in rows
        ]


def worker_registry(settings: Settings) -> WorkerRegistry:
    if settings.database_url is not None:
        return PostgresWorkerRegistry(settings.database_url)
    data_dir.prepare(settings.data_path)
    return SQLiteWorkerRegistry(settings.data_path / "workers.sqlite")


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    # One width (microseconds, UTC), so text order is time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _values(entry: WorkerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "host": entry.host,
        "pid": entry.pid,
        "started_at": entry.started_at,
        "last_seen": entry.last_seen,
        "in_flight": entry.in_flight,
    }


_COLUMNS = "id, host, pid, started_at, last_seen, in_flight"
_SELECT = f"SELECT {_COLUMNS} FROM jobstream_workers WHERE last_seen >= %s ORDER BY id"  # noqa: S608
_PG_CREATE = """
CREATE TABLE IF NOT EXISTS jobstream_workers (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    in_flight integer NOT NULL
)
"""
_PG_UPSERT = f"""
INSERT INTO jobstream_workers ({_COLUMNS})
VALUES (%(id)s, %(host)s, %(pid)s, %(started_at)s, %(last_seen)s, %(in_flight)s)
ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
    started_at = EXCLUDED.started_at, last_seen = EXCLUDED.last_seen,
    in_flight = EXCLUDED.in_flight
"""  # noqa: S608
_SQLITE_CREATE = """
CREATE TABLE IF NOT EXISTS jobstream_workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    in_flight INTEGER NOT NULL
)
"""
_SQLITE_UPSERT = _PG_UPSERT.replace("%(", ":").replace(")s", "")
