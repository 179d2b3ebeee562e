"""Reads of a PostgreSQL view from the event loop: psycopg's async connections, pooled.

The twins of projections.postgres_reads, for code that runs on the event loop and
must not block it: the same round trips (a lone autocommit SELECT; the statements
of a list sent together in one pipeline), awaited instead of waited for.

The pool is opened on first use, in the running loop: a process forked before that
never inherits its connections, and it serves only the loop it was opened in (a
read from another raises). `close()` it in that loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.postgres_reads import Statement

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]
MIN_SIZE = 1  # one kept open: a process serving few reads holds few connections
# A read holds a connection for one round trip; 4 answered as fast as 8 here, and each
# process already holds some 20 others (PostgreSQL's default allows 100 in all).
MAX_SIZE = 4


class AsyncReads:
    """An async pool over `connection_kwargs` (psycopg's keywords), opened lazily.

    A caller waits at most `timeout` seconds for a connection (PoolTimeout). Its
    connections carry `name` as their application_name (pg_stat_activity).
    """

    def __init__(
        self,
        connection_kwargs: Mapping[str, Any],
        *,
        name: str,
        timeout: float,
        max_size: int = MAX_SIZE,
    ) -> None:
        self._kwargs = {
            **connection_kwargs,
            "autocommit": True,
            "row_factory": dict_row,
            "application_name": name,
        }
        self._name = name
        self._timeout = timeout
        self._max_size = max_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[Pool] | None = None

    async def one(self, sql: str, params: Any) -> Any:
        """The first record `sql` selects, or None."""
        async with (await self._pool()).connection() as conn:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchone()

    async def all(self, sql: str, params: Any) -> list[Any]:
        """Every record `sql` selects."""
        async with (await self._pool()).connection() as conn:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()

    async def each(self, *statements: Statement) -> list[list[Any]]:
        """The records of each statement, all sent before the first answer is awaited."""
        async with (await self._pool()).connection() as conn:
            async with conn.pipeline():
                cursors = [
                    await conn.execute(sql, params) for sql, params in statements
                ]
            return [await cursor.fetchall() for cursor in cursors]

    async def close(self) -> None:
        """Close the pool, if it was opened (in this loop)."""
        opening, self._opening = self._opening, None
        if opening is None or self._loop is not asyncio.get_running_loop():
            return
        pool = await opening
        await pool.close()

    def _pool(self) -> asyncio.Task[Pool]:
        """The pool, opening in this loop (awaiting it once open costs no switch)."""
        loop = asyncio.get_running_loop()
        if self._opening is None:
            self._loop = loop
            self._opening = loop.create_task(self._open())
        elif loop is not self._loop:
            raise RuntimeError(f"{self._name}: its pool serves another event loop")
        return self._opening

    async def _open(self) -> Pool:
        pool: Pool = AsyncConnectionPool(
            connection_class=AsyncConnection[DictRow],
            kwargs=self._kwargs,
            min_size=MIN_SIZE,
            max_size=self._max_size,
            timeout=self._timeout,
            name=self._name,
            open=False,
        )
        await pool.open(wait=False)  # connections are made by the pool's workers
        return pool
