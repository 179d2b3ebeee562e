"""Server-side admin sessions (logout really ends them): SQLite file or PostgreSQL table."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from psycopg_pool import ConnectionPool

from service import pg_timeouts

if TYPE_CHECKING:
    from pathlib import Path


class SessionStore(ABC):
    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds

    def create(self, user_id: str) -> str:
        session_id = secrets.token_urlsafe(24)
        self._insert(session_id, user_id, time.time() + self.ttl_seconds)
        return session_id

    @abstractmethod
    def _insert(self, session_id: str, user_id: str, expires_at: float) -> None: ...

    @abstractmethod
    def user_id(self, session_id: str) -> str | None:
        """The user of a live session; None when unknown or expired."""

    @abstractmethod
    def delete(self, session_id: str) -> None: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached."""

    @abstractmethod
    def close(self) -> None: ...


_TABLE = (
    "CREATE TABLE IF NOT EXISTS jobstream_sessions "
    "(id TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)"
)


class SQLiteSessionStore(SessionStore):
    def __init__(self, path: Path, ttl_seconds: int) -> None:
        super().__init__(ttl_seconds)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_TABLE)

    def _insert(self, session_id: str, user_id: str, expires_at: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO jobstream_sessions VALUES (?, ?, ?)",
                (session_id, user_id, expires_at),
            )
            self._db.execute(
                "DELETE FROM jobstream_sessions WHERE expires_at < ?", (time.time(),)
            )

    def user_id(self, session_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT user_id FROM jobstream_sessions WHERE id = ? AND expires_at > ?",
                (session_id, time.time()),
            ).fetchone()
        return None if row is None else str(row[0])

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM jobstream_sessions WHERE id = ?", (session_id,)
            )

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1")

    def close(self) -> None:
        self._db.close()


class PostgresSessionStore(SessionStore):
    def __init__(self, conninfo: str, ttl_seconds: int) -> None:
        super().__init__(ttl_seconds)
        self._pool = ConnectionPool(
            pg_timeouts.with_timeouts(conninfo),
            min_size=1,
            max_size=8,
            open=True,
            timeout=pg_timeouts.POOL_WAIT_SECONDS,  # a cut fails fast (not in 30 s)
        )
        with self._pool.connection() as conn:
            conn.execute(_TABLE)

    def _insert(self, session_id: str, user_id: str, expires_at: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO jobstream_sessions VALUES (%s, %s, %s)",
                (session_id, user_id, expires_at),
            )
            conn.execute(
                "DELETE FROM jobstream_sessions WHERE expires_at < %s", (time.time(),)
            )

    def user_id(self, session_id: str) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT user_id FROM jobstream_sessions WHERE id = %s AND expires_at > %s",
                (session_id, time.time()),
            ).fetchone()
        return None if row is None else str(row[0])

    def delete(self, session_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM jobstream_sessions WHERE id = %s", (session_id,))

    def ping(self) -> None:
        with self._pool.connection(timeout=2.0) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._pool.close()
