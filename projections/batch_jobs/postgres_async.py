"""The PostgreSQL batch-jobs view's hot reads as coroutines, for the event loop.

The async twins of PostgresBatchJobsView's get_document, list_documents and
list_documents_by_status: the view builds each read's statements (so a live
rebuild's table swap is followed) and shapes its records; they are sent by
projections.postgres_async_reads on a pool of async connections made with the
view's own connection keywords. Nothing here is SQL of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.batch_jobs.postgres import (
    document_found,
    documents_by_status,
    documents_counted,
)
from projections.postgres_async_reads import AsyncReads

if TYPE_CHECKING:
    from projections.batch_jobs.postgres import PostgresBatchJobsView
    from projections.batch_jobs.query import BatchJobQuery
    from projections.batch_jobs.view import StatusPage
    from projections.postgres_reads import Statement

# Its connections' application_name, as pg_stat_activity shows them.
APPLICATION_NAME = "jobstream-hot-reads"
COUNT_CACHE_SIZE = 1024  # list counts kept (projections.batch_jobs.sqlite's too)


class AsyncPostgresBatchJobsReads:
    """`view`'s hot reads, awaited; a caller waits `timeout` s at most for a connection."""

    def __init__(self, view: PostgresBatchJobsView, *, timeout: float) -> None:
        self._view = view
        self._counts: dict[tuple[Any, ...], list[Any]] = {}
        kwargs = view.datastore.pool.kwargs  # the sync pool's, timeouts included
        self._reads = AsyncReads(
            (kwargs() if callable(kwargs) else kwargs) or {},
            name=APPLICATION_NAME,
            timeout=timeout,
        )

    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return document_found(await self._reads.one(*self._view.document_read(job_id)))

    async def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        counted, documents = await self._counted_page(*self._view.list_reads(query))
        return documents_counted(documents, counted)

    async def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        counts, documents = await self._counted_page(
            *self._view.status_list_reads(query)
        )
        return documents_by_status(documents, counts)

    async def _counted_page(
        self, count: Statement, page: Statement
    ) -> tuple[list[Any], list[Any]]:
        """The count's records and the page's: the count from memory while it holds.

        A list's count walks every row the caller may see (most of the database's
        work for a list); it is kept per statement and view position, which every
        fold moves, so it is asked again only once the rows may have changed. The
        position and the page go in one pipeline; a miss costs one more round trip.
        """
        positioned, documents = await self._reads.each(self._view.position_read(), page)
        key = (positioned[0]["n"], count[0], *count[1])
        counted = self._counts.get(key)
        if counted is None:
            counted = (await self._reads.each(count))[0]
            if len(self._counts) >= COUNT_CACHE_SIZE:
                self._counts.clear()  # older positions' entries are never hit again
            self._counts[key] = counted
        return counted, documents

    async def close(self) -> None:
        """Close its pool (in the loop that opened it)."""
        await self._reads.close()
