"""The PostgreSQL batch-jobs view's hot reads as coroutines, for the event loop.

The async twins of PostgresBatchJobsView's get_document, list_documents and
list_documents_by_status: the view builds each read's statements (so a live
rebuild's table swap is followed) and shapes its records; they are sent by
projections.postgres_async_reads on a pool of async connections made with the
view's own connection keywords. Nothing here is SQL of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

# Its connections' application_name, as pg_stat_activity shows them.
APPLICATION_NAME = "jobstream-hot-reads"


class AsyncPostgresBatchJobsReads:
    """`view`'s hot reads, awaited; a caller waits `timeout` s at most for a connection."""

    def __init__(self, view: PostgresBatchJobsView, *, timeout: float) -> None:
        self._view = view
        kwargs = view.datastore.pool.kwargs  # the sync pool's, timeouts included
        self._reads = AsyncReads(
            (kwargs() if callable(kwargs) else kwargs) or {},
            name=APPLICATION_NAME,
            timeout=timeout,
        )

    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return document_found(await self._reads.one(*self._view.document_read(job_id)))

    async def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        counted, documents = await self._reads.each(*self._view.list_reads(query))
        return documents_counted(documents, counted)

    async def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        counts, documents = await self._reads.each(*self._view.status_list_reads(query))
        return documents_by_status(documents, counts)

    async def close(self) -> None:
        """Close its pool (in the loop that opened it)."""
        await self._reads.close()
