"""Exactly one active relay per stream: a lock held for as long as it leads."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from abc import ABC, abstractmethod
from typing import IO, TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from pathlib import Path


class Leadership(ABC):
    @abstractmethod
    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this process leads; False if `stop` was set first."""

    @abstractmethod
    async def still_held(self) -> bool:
        """Whether the lock is still ours (checked before each batch)."""

    @abstractmethod
    async def release(self) -> None: ...


class PostgresAdvisoryLock(Leadership):
    """A session-level advisory lock on a connection of its own.

    If the leader dies, PostgreSQL ends its session and frees the lock; a standby's next
    try takes it over. If the leader loses its connection, `still_held` says so and it
    stops publishing before the next batch.
    """

    def __init__(self, conninfo: str, key: str, retry_seconds: float = 0.5) -> None:
        self._conninfo = conninfo
        self._key = key
        self._retry_seconds = retry_seconds
        self._conn: psycopg.AsyncConnection[object] | None = None

    async def acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            with contextlib.suppress(psycopg.Error):
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                )
                cursor = await conn.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s))", (self._key,)
                )
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    self._conn = conn
                    return True
                await conn.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry_seconds)
        return False

    async def still_held(self) -> bool:
        if self._conn is None or self._conn.closed:
            return False
        try:
            await self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()  # ending the session frees the lock
            self._conn = None


class FileLock(Leadership):
    """The embedded default's lock: one relay per data directory (flock)."""

    def __init__(self, path: Path, retry_seconds: float = 0.5) -> None:
        self._path = path
        self._retry_seconds = retry_seconds
        self._file: IO[bytes] | None = None

    async def acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            handle = self._path.open("ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._retry_seconds)
                continue
            self._file = handle
            return True
        return False

    async def still_held(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
