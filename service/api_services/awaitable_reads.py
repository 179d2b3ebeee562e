"""The batch-jobs view's hot reads as coroutines, given up as soon as the database is cut.

On PostgreSQL the hot lane (service.http.hot_reads) reads on the event loop through
async connections (projections.batch_jobs.postgres_async). The lane runs ahead of
the database-cut guard (service.http.database_cut), which answers a request in
flight 503 within RECHECK_SECONDS of the gate (service.db_gate) knowing PostgreSQL
is down. A read here gives up as soon (DatabaseCutError), and one asked while the
gate says down is not sent: the lane then leaves the request to Litestar's path,
where the guard answers it. A read given up is cancelled and left to end on its
own, as psycopg's cancel may wait on a dead peer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.postgres_async import AsyncPostgresBatchJobsReads
from service import pg_timeouts
from service.db_gate import RECHECK_SECONDS, gate_on
from service.read_models import postgres_callers
from service.read_models.caller_positions import slot_of

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from projections.batch_jobs.query import BatchJobQuery
    from projections.batch_jobs.view import BatchJobsView

T = TypeVar("T")
# Reads given up, kept until they end (the loop holds only weak references).
_given_up: set[asyncio.Task[Any]] = set()


class AwaitableDocuments(Protocol):
    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        """The job's creator and its stored Medusa JSON; None if there is no such job."""

    async def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        """One page of stored Medusa JSON, and the count of all matching jobs."""

    async def get_document_for(
        self, job_id: str, caller_id: str
    ) -> tuple[tuple[str | None, str] | None, int | None]:
        """`get_document`, and where the caller's last write ended, in one statement.

        None for the position where the caller's writes are not recorded.
        """

    async def list_documents_for(
        self, query: BatchJobQuery, caller_id: str
    ) -> tuple[tuple[list[str], int], int | None]:
        """`list_documents`, and the caller's last write as `get_document_for`."""

    async def close(self) -> None:
        """Release the connections (in the loop that read)."""


class DatabaseCutError(Exception):
    """The gate says PostgreSQL is down: the read was not sent, or was given up."""


class GatedDocuments:
    """`reads`, each given up as soon as the gate on `database_url` says it is down."""

    def __init__(self, reads: AsyncPostgresBatchJobsReads, database_url: str) -> None:
        self._reads = reads
        self._url = database_url

    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return await self._unless_cut(self._reads.get_document(job_id))

    async def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        return await self._unless_cut(self._reads.list_documents(query))

    async def get_document_for(
        self, job_id: str, caller_id: str
    ) -> tuple[tuple[str | None, str] | None, int | None]:
        if not self._reads.reads_positions:
            return await self.get_document(job_id), None
        return await self._unless_cut(
            self._reads.get_document_at(job_id, slot_of(caller_id))
        )

    async def list_documents_for(
        self, query: BatchJobQuery, caller_id: str
    ) -> tuple[tuple[list[str], int], int | None]:
        if not self._reads.reads_positions:
            return await self.list_documents(query), None
        return await self._unless_cut(
            self._reads.list_documents_at(query, slot_of(caller_id))
        )

    async def close(self) -> None:
        await self._reads.close()

    async def _unless_cut(self, read: Coroutine[Any, Any, T]) -> T:
        gate = gate_on(self._url)  # opened by the app's lifespan
        if gate is None:
            return await read
        if gate.down() is not None:
            read.close()
            raise DatabaseCutError
        task = asyncio.ensure_future(read)
        try:
            while True:
                done, _ = await asyncio.wait((task,), timeout=RECHECK_SECONDS)
                if done:
                    return task.result()
                if gate.down() is not None:
                    raise DatabaseCutError
        finally:
            if not task.done():
                _give_up(task)


def awaitable_documents(
    view: BatchJobsView,
    database_url: str | None,
    known_position: Callable[[], int | None] = lambda: None,
    callers_table: str | None = None,
) -> AwaitableDocuments | None:
    """The view's hot reads as coroutines where they cross the network; else None.

    `known_position`: the view's position as this process knows it without I/O.
    `callers_table`: where the callers' writes are recorded (postgres_callers), if so.
    """
    if database_url is None or not isinstance(view, PostgresBatchJobsView):
        return None
    reads = AsyncPostgresBatchJobsReads(
        view,
        timeout=pg_timeouts.POOL_WAIT_SECONDS,
        known_position=known_position,
        positions_sql=None
        if callers_table is None
        else postgres_callers.select_statement(callers_table),
    )
    return GatedDocuments(reads, database_url)


def _give_up(task: asyncio.Task[Any]) -> None:
    _given_up.add(task)
    task.add_done_callback(_forget)
    task.cancel()


def _forget(task: asyncio.Task[Any]) -> None:
    _given_up.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: not logged as "never retrieved"
