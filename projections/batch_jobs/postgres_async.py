"""The PostgreSQL batch-jobs view's hot reads as coroutines, for the event loop.

The async twins of PostgresBatchJobsView's get_document, list_documents and
list_documents_by_status: the view builds each read's statements (so a live
rebuild's table swap is followed) and shapes its records; they are sent by
projections.postgres_async_reads on a pool of async connections made with the
view's own connection keywords. Nothing here is SQL of its own.

Under load the same reads arrive together, so they go together
(projections.batched_lookups): GETs by id as one `id = ANY(...)`, list pages of one
shape as one statement (the view's `pages_read`), the same page asked twice once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from projections.batch_jobs.postgres import (
    documents_by_status,
    documents_counted,
    documents_found,
    documents_of,
    pages_found,
)
from projections.batched_lookups import BatchedLookups
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
# GETs by id in flight together go as one statement (projections.batched_lookups);
# two such reads at a time leave the pool's other connections to the lists.
DOCUMENT_READS_IN_FLIGHT = 2
DOCUMENTS_PER_READ = 64
# List pages in flight together go the same way, those of one shape as one statement.
PAGE_READS_IN_FLIGHT = 2
PAGES_PER_READ = 32


@dataclass(frozen=True)
class _Page:
    """A page's statement as a lookup key: equal pages are read once."""

    sql: str
    key: tuple[Any, ...]  # the parameters, hashable
    params: list[Any] = field(compare=False)

    @classmethod
    def of(cls, statement: Statement) -> _Page:
        sql, params = statement
        key = tuple(tuple(p) if isinstance(p, list) else p for p in params)
        return cls(sql, key, list(params))


class AsyncPostgresBatchJobsReads:
    """`view`'s hot reads, awaited; a caller waits `timeout` s at most for a connection."""

    def __init__(
        self,
        view: PostgresBatchJobsView,
        *,
        timeout: float,
        known_position: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._view = view
        self._known_position = known_position
        self._counts: dict[tuple[Any, ...], list[Any]] = {}
        kwargs = view.datastore.pool.kwargs  # the sync pool's, timeouts included
        self._reads = AsyncReads(
            (kwargs() if callable(kwargs) else kwargs) or {},
            name=APPLICATION_NAME,
            timeout=timeout,
        )
        self._documents = BatchedLookups(
            self._documents_of,
            in_flight=DOCUMENT_READS_IN_FLIGHT,
            max_batch=DOCUMENTS_PER_READ,
        )
        self._pages = BatchedLookups(
            self._pages_of, in_flight=PAGE_READS_IN_FLIGHT, max_batch=PAGES_PER_READ
        )

    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return await self._documents.get(job_id)

    async def _documents_of(
        self, job_ids: list[str]
    ) -> dict[str, tuple[str | None, str]]:
        return documents_found(
            await self._reads.all(*self._view.documents_read(job_ids))
        )

    async def _page(self, page: Statement) -> list[str]:
        """A page's documents, read with the pages asked for at the same time."""
        return await self._pages.get(_Page.of(page)) or []

    async def _pages_of(self, pages: list[_Page]) -> dict[_Page, list[str]]:
        """The pages' documents: one statement a shape, all in one round trip."""
        shapes: dict[str, list[_Page]] = {}
        for page in pages:
            shapes.setdefault(page.sql, []).append(page)
        groups = list(shapes.values())
        statements = [
            (group[0].sql, group[0].params)
            if len(group) == 1
            else self._view.pages_read(group[0].sql, [p.params for p in group])
            for group in groups
        ]
        found: dict[_Page, list[str]] = {}
        for group, records in zip(
            groups, await self._reads.each(*statements), strict=True
        ):
            if len(group) == 1:
                found[group[0]] = documents_of(records)
            else:
                found.update(zip(group, pages_found(records), strict=True))
        return found

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
    ) -> tuple[list[Any], list[str]]:
        """The count's records and the page's documents: the count from memory while it holds.

        A list's count walks every row the caller may see (most of the database's
        work for a list); it is kept per statement and view position, which every
        fold moves, so it is asked again only once the rows may have changed. The
        position is the one this process knows (`known_position`: it may be behind
        the view, never ahead, so a count kept under it is never older than it);
        where it knows none, the view's own goes in one pipeline with the page.
        """
        position = self._known_position()
        if position is None:
            positioned, documents = await self._reads.each(
                self._view.position_read(), page
            )
            return await self._count_at(positioned[0]["n"], count), documents_of(
                documents
            )
        key = (position, count[0], *count[1])
        counted = self._counts.get(key)
        if counted is not None:
            return counted, await self._page(page)
        counted, documents = await self._reads.each(count, page)
        self._keep(key, counted)
        return counted, documents_of(documents)

    async def _count_at(self, position: Any, count: Statement) -> list[Any]:
        key = (position, count[0], *count[1])
        counted = self._counts.get(key)
        if counted is None:
            counted = (await self._reads.each(count))[0]
            self._keep(key, counted)
        return counted

    def _keep(self, key: tuple[Any, ...], counted: list[Any]) -> None:
        if len(self._counts) >= COUNT_CACHE_SIZE:
            self._counts.clear()  # older positions' entries are never hit again
        self._counts[key] = counted

    async def close(self) -> None:
        """Close its pool (in the loop that opened it)."""
        await self._reads.close()
