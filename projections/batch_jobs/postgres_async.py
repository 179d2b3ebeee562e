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
    from collections.abc import Callable

    from projections.batch_jobs.postgres import PostgresBatchJobsView
    from projections.batch_jobs.query import BatchJobQuery
    from projections.batch_jobs.view import StatusPage
    from projections.postgres_reads import Statement

# Its connections' application_name, as pg_stat_activity shows them.
APPLICATION_NAME = "jobstream-hot-reads"
COUNT_CACHE_SIZE = 1024  # list counts kept (projections.batch_jobs.sqlite's too)


class ViewBehindError(Exception):
    """The view has not folded the caller's last write yet: the read must wait for it."""


class AsyncPostgresBatchJobsReads:
    """`view`'s hot reads, awaited, each only if the view has the caller's writes.

    `caller_read(caller_id)` is the statement whose `position` is where that
    caller's last write ended (none: no write recorded); `floor()` where the log
    ended when the process started. A read finds the view's position in the same
    round trip, and raises ViewBehindError, having answered nothing, when the view
    is behind either. A caller waits `timeout` s at most for a connection.
    """

    def __init__(
        self,
        view: PostgresBatchJobsView,
        *,
        timeout: float,
        caller_read: Callable[[str], Statement],
        floor: Callable[[], int],
    ) -> None:
        self._view = view
        self._caller_read = caller_read
        self._floor = floor
        self._counts: dict[tuple[Any, ...], list[Any]] = {}
        kwargs = view.datastore.pool.kwargs  # the sync pool's, timeouts included
        self._reads = AsyncReads(
            (kwargs() if callable(kwargs) else kwargs) or {},
            name=APPLICATION_NAME,
            timeout=timeout,
        )

    async def get_document(
        self, job_id: str, caller_id: str
    ) -> tuple[str | None, str] | None:
        # One statement, one snapshot: the positions and the job's row, if any.
        caller_sql, caller_params = self._caller_read(caller_id)
        position_sql, position_params = self._view.position_read()
        document_sql, document_params = self._view.document_read(job_id)
        record = await self._reads.one(
            f"SELECT ({caller_sql}) AS caller_position, ({position_sql}) AS n, "  # noqa: S608 - the view's statements
            f"found.* FROM (SELECT 1) AS one LEFT JOIN ({document_sql}) AS found ON TRUE",
            [*caller_params, *position_params, *document_params],
        )
        self._check(record)
        return document_found(record if record["document"] is not None else None)

    async def list_documents(
        self, query: BatchJobQuery, caller_id: str
    ) -> tuple[list[str], int]:
        counted, documents = await self._counted_page(
            caller_id, *self._view.list_reads(query)
        )
        return documents_counted(documents, counted)

    async def list_documents_by_status(
        self, query: BatchJobQuery, caller_id: str
    ) -> StatusPage:
        counts, documents = await self._counted_page(
            caller_id, *self._view.status_list_reads(query)
        )
        return documents_by_status(documents, counts)

    def _check(self, record: Any) -> None:
        """Raise ViewBehindError unless `record`'s view position is where it must be."""
        caller = record["caller_position"] or 0
        if (record["n"] or 0) < max(caller, self._floor()):
            raise ViewBehindError

    async def _counted_page(
        self, caller_id: str, count: Statement, page: Statement
    ) -> tuple[list[Any], list[Any]]:
        """The count's records and the page's: the count from memory while it holds.

        A list's count walks every row the caller may see (most of the database's
        work for a list); it is kept per statement and view position, which every
        fold moves, so it is asked again only once the rows may have changed. The
        positions and then the page go in one pipeline (the page's snapshot is the
        later: it has at least what the position says); a miss costs one more round
        trip.
        """
        caller_sql, caller_params = self._caller_read(caller_id)
        position_sql, position_params = self._view.position_read()
        positioned, documents = await self._reads.each(
            (
                f"SELECT ({caller_sql}) AS caller_position, ({position_sql}) AS n",
                [*caller_params, *position_params],
            ),
            page,
        )
        self._check(positioned[0])
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
