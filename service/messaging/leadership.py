"""Exactly one active relay per stream: a lease renewed (or a lock held) while it leads."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import socket
import time
from abc import ABC, abstractmethod
from typing import IO, TYPE_CHECKING, Any

import psycopg
import structlog

from service import pg_timeouts

if TYPE_CHECKING:
    from pathlib import Path

log = structlog.get_logger("relay")


class Leadership(ABC):
    @abstractmethod
    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this process leads; False if `stop` was set first."""

    @abstractmethod
    async def still_held(self) -> bool:
        """Whether the lock is still ours (checked before each batch)."""

    @abstractmethod
    def leads(self) -> bool:
        """Whether this process leads right now, as far as it knows (no I/O)."""

    @abstractmethod
    async def release(self) -> None: ...


class PostgresLease(Leadership):
    """Leadership as a lease in a table, renewed by its holder, timed by the database.

    A row per stream holds the leader, its term and when its lease ends
    (`expires_at`, on the database's clock). The leader renews it every third of the
    lease; a standby takes it over, with the next term, once it has expired. A
    session lock would not do: PostgreSQL keeps a cut-off leader's session (and its
    lock) alive for as long as TCP does.

    The leader counts its lease from the moment it *sent* each renewal (on its own
    monotonic clock), so it believes itself leader for no longer than the database
    does, and it stops publishing `margin` seconds before even that: two relays never
    publish at once. A renewal that fails or finds another term ends leadership.
    """

    def __init__(
        self,
        conninfo: str,
        key: str,
        *,
        lease_seconds: float,
        poll_seconds: float = 0.5,
        holder: str | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._key = key
        self.lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._renew_every = lease_seconds / 3
        # A batch starts only with this much of the lease left (see still_held).
        self._margin = lease_seconds / 4
        self._statement_seconds = max(0.5, min(2.0, lease_seconds / 6))
        self.holder = (
            holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        )
        self.term = 0
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._valid_until = 0.0  # monotonic; the lease as this process may count it
        self._lost: str | None = None  # why leadership ended, once it has
        self._renewer: asyncio.Task[None] | None = None
        self._seen_leader: tuple[str, int] | None = None  # logged once per leader
        self._said_unreachable = False

    async def acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                row = await self._query(
                    _TAKE,
                    {
                        "name": self._key,
                        "holder": self.holder,
                        "seconds": self.lease_seconds,
                    },
                )
            except _UnreachableError as error:
                if not self._said_unreachable:  # once per outage, not every poll
                    self._said_unreachable = True
                    log.warning("relay.leadership_unreachable", error=str(error))
                row = None
            else:
                self._said_unreachable = False
            if row is not None and row[0] == self.holder:
                self.term = int(row[1])
                self._valid_until = sent + self.lease_seconds
                self._lost = None
                self._renewer = asyncio.create_task(self._renew_until_lost())
                log.info(
                    "relay.leading", holder=self.holder, term=self.term,
                    lease_seconds=self.lease_seconds,
                )  # fmt: skip
                return True
            if row is not None and (row[0], row[1]) != self._seen_leader:
                self._seen_leader = (str(row[0]), int(row[1]))
                log.info(
                    "relay.standing_by", holder=self.holder, leader=row[0], term=row[1]
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_seconds)
        await self._disconnect()
        return False

    async def still_held(self) -> bool:
        if self._lost is None and time.monotonic() > self._valid_until - self._margin:
            self._lose("lease not renewed in time (the database does not answer)")
        return self.leads()

    def leads(self) -> bool:
        return (
            self._lost is None
            and self.term > 0
            and time.monotonic() <= self._valid_until - self._margin
        )

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        if self._lost is None and self.term:
            # Handing over at once: a standby's next poll takes the lease.
            with contextlib.suppress(_UnreachableError):
                await self._query(_RELEASE, (self._key, self.holder, self.term))
            self._lost = "released"
            log.info("relay.leadership_released", holder=self.holder, term=self.term)
        self.term = 0
        self._seen_leader = None
        await self._disconnect()

    async def _renew_until_lost(self) -> None:
        next_renewal = time.monotonic() + self._renew_every
        while self._lost is None:
            # Awake at the lease's end too, to say at once that it ended.
            wake_at = min(next_renewal, self._valid_until - self._margin)
            await asyncio.sleep(max(0.0, wake_at - time.monotonic()))
            if not await self.still_held():
                return
            sent = time.monotonic()
            try:
                row = await self._query(
                    _RENEW, (self.lease_seconds, self._key, self.holder, self.term)
                )
            except _UnreachableError as error:
                log.warning(
                    "relay.lease_renewal_failed", term=self.term, error=str(error)
                )
                next_renewal = time.monotonic() + self._poll_seconds
                continue
            if row is None:
                self._lose("another relay holds the lease (a newer term)")
                return
            self._valid_until = sent + self.lease_seconds
            next_renewal = sent + self._renew_every

    def _lose(self, why: str) -> None:
        if self._lost is None:
            self._lost = why
            log.warning(
                "relay.leadership_lost", holder=self.holder, term=self.term, reason=why
            )

    async def _query(
        self, sql: str, params: tuple[object, ...] | dict[str, object]
    ) -> tuple[Any, ...] | None:
        """One statement, answered within `_statement_seconds` or _UnreachableError.

        The wait is bounded here, not only by TCP: a cancelled psycopg call may itself
        wait on the dead peer, so a call that overruns is abandoned with its connection.
        """
        task = asyncio.create_task(self._execute(sql, params))
        # An abandoned call's late error is expected: fetched so nobody warns of it.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        done, _ = await asyncio.wait({task}, timeout=self._statement_seconds)
        if not done:
            task.cancel()
            self._abandon()
            raise _UnreachableError(f"no answer within {self._statement_seconds:g} s")
        try:
            return task.result()
        except psycopg.Error as error:
            self._abandon()
            raise _UnreachableError(f"{type(error).__name__}: {error}") from error

    async def _execute(
        self, sql: str, params: tuple[object, ...] | dict[str, object]
    ) -> tuple[Any, ...] | None:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(
                pg_timeouts.with_timeouts(self._conninfo, 1), autocommit=True
            )
            async with conn.transaction():
                # Two relays starting together must not both create the table. A key
                # of its own: the schema lock is taken by blocking calls on this very
                # event loop (at a relay's start), which would wait for us for ever.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('jobstream-leadership'))"
                )
                await conn.execute(_CREATE)
            self._conn = conn
        cursor = await self._conn.execute(sql, params)
        return await cursor.fetchone()

    def _abandon(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()  # closes the socket without waiting on the peer

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await asyncio.wait_for(conn.close(), self._statement_seconds)


class _UnreachableError(Exception):
    """The lease's table did not answer in time (a cut, a restart)."""


_CREATE = """
CREATE TABLE IF NOT EXISTS jobstream_leadership (
    name text PRIMARY KEY,
    holder text NOT NULL,
    term bigint NOT NULL,
    expires_at timestamptz NOT NULL
)
"""
# Take the lease if nobody holds it or its holder's lease expired (the next term);
# either way, answer who leads now.
_TAKE = """
WITH taken AS (
    INSERT INTO jobstream_leadership AS l (name, holder, term, expires_at)
    VALUES (%(name)s, %(holder)s, 1, now() + make_interval(secs => %(seconds)s))
    ON CONFLICT (name) DO UPDATE
        SET holder = EXCLUDED.holder, term = l.term + 1, expires_at = EXCLUDED.expires_at
        WHERE l.expires_at < now()
    RETURNING holder, term
)
SELECT holder, term FROM taken
UNION ALL
SELECT holder, term FROM jobstream_leadership
WHERE name = %(name)s AND NOT EXISTS (SELECT FROM taken)
"""
_RENEW = """
UPDATE jobstream_leadership SET expires_at = now() + make_interval(secs => %s)
WHERE name = %s AND holder = %s AND term = %s AND expires_at > now()
RETURNING term
"""
_RELEASE = """
UPDATE jobstream_leadership SET expires_at = now()
WHERE name = %s AND holder = %s AND term = %s
"""


class FileLock(Leadership):
    """The embedded default's lock: one relay per data directory (flock).

    Every process that can take it runs on this machine, so there is no partition to
    outlast: the kernel frees the lock when its holder exits.
    """

    def __init__(self, path: Path, retry_seconds: float = 0.5) -> None:
        self._path = path
        self._retry_seconds = retry_seconds
        self._file: IO[bytes] | None = None
        self._said_standing_by = False

    async def acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            handle = self._path.open("ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                if not self._said_standing_by:
                    self._said_standing_by = True
                    log.info("relay.standing_by", lock=str(self._path))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._retry_seconds)
                continue
            self._file = handle
            self._said_standing_by = False
            log.info("relay.leading", lock=str(self._path))
            return True
        return False

    async def still_held(self) -> bool:
        return self.leads()

    def leads(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
