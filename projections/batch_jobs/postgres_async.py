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
    """A page's statement as a lookup key: equal pages are read once.

    `slot`: a caller's slot whose position is read with it (None: none).
    """

    sql: str
    key: tuple[Any, ...]  # the parameters, hashable
    params: list[Any] = field(compare=False)
    slot: int | None = None

    @classmethod
    def of(cls, statement: Statement, slot: int | None = None) -> _Page:
        sql, params = statement
        key = tuple(tuple(p) if isinstance(p, list) else p for p in params)
        return cls(sql, key, list(params), slot)


class AsyncPostgresBatchJobsReads:
    """`view`'s hot reads, awaited; a caller waits `timeout` s at most for a connection."""

    def __init__(
        self,
        view: PostgresBatchJobsView,
        *,
        timeout: float,
        known_position: Callable[[], int | None] = lambda: None,
        positions_sql: str | None = None,
    ) -> None:
        """`positions_sql`: selects (slot, position) records of slots (%s: an array)."""
        self._view = view
        self._known_position = known_position
        self._positions_sql = positions_sql
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
        self._documents_at = BatchedLookups(
            self._documents_at_of,
            in_flight=DOCUMENT_READS_IN_FLIGHT,
            max_batch=DOCUMENTS_PER_READ,
        )

    async def get_document_at(
        self, job_id: str, slot: int
    ) -> tuple[tuple[str | None, str] | None, int]:
        """`get_document` and `slot`'s position, read by one statement (one snapshot)."""
        found = await self._documents_at.get((job_id, slot))
        return (None, 0) if found is None else found

    async def _documents_at_of(
        self, keys: list[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[tuple[str | None, str] | None, int]]:
        """The documents and the slots' positions asked together, in one statement."""
        assert self._positions_sql is not None  # noqa: S101 - asked only with it
        documents_sql, documents_params = self._view.documents_read(
            sorted({job_id for job_id, _ in keys})
        )
        sql = (
            "SELECT d.id, d.created_by, d.document, NULL::integer AS slot,"  # noqa: S608 - two statements of ours, values apart
            f" NULL::bigint AS position FROM ({documents_sql}) AS d"
            " UNION ALL SELECT NULL, NULL, NULL, p.slot, p.position"
            f" FROM ({self._positions_sql}) AS p"
        )
        records = await self._reads.all(
            sql, [*documents_params, sorted({slot for _, slot in keys})]
        )
        found = documents_found([r for r in records if r["id"] is not None])
        positions = {r["slot"]: r["position"] for r in records if r["slot"] is not None}
        return {
            (job_id, slot): (found.get(job_id), positions.get(slot, 0))
            for job_id, slot in keys
        }

    @property
    def reads_positions(self) -> bool:
        """Whether slots' positions are read (it was given `positions_sql`)."""
        return self._positions_sql is not None

    async def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return await self._documents.get(job_id)

    async def _documents_of(
        self, job_ids: list[str]
    ) -> dict[str, tuple[str | None, str]]:
        return documents_found(
            await self._reads.all(*self._view.documents_read(job_ids))
        )

    async def _page(
        self, page: Statement, slot: int | None = None
    ) -> tuple[list[str], int | None]:
        """A page's documents (and `slot`'s position), read with the others asked."""
        return await self._pages.get(_Page.of(page, slot)) or ([], None)

    async def _pages_of(
        self, pages: list[_Page]
    ) -> dict[_Page, tuple[list[str], int | None]]:
        """The pages' documents: one statement a shape, all in one round trip.

        The slots asked with them go in the same pipeline, as one statement.
        """
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
        slots = sorted({p.slot for p in pages if p.slot is not None})
        if slots and self._positions_sql is not None:
            statements.append((self._positions_sql, [slots]))
        results = await self._reads.each(*statements)
        positions = (
            {r["slot"]: r["position"] for r in results.pop()}
            if len(results) > len(groups)
            else {}
        )
        found: dict[_Page, tuple[list[str], int | None]] = {}
        for group, records in zip(groups, results, strict=True):
            documents = (
                [documents_of(records)] if len(group) == 1 else pages_found(records)
            )
            for page, page_documents in zip(group, documents, strict=True):
                slot = page.slot
                found[page] = (
                    page_documents,
                    None if slot is None else positions.get(slot, 0),
                )
        return found

    async def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        counted, documents, _ = await self._counted_page(*self._view.list_reads(query))
        return documents_counted(documents, counted)

    async def list_documents_at(
        self, query: BatchJobQuery, slot: int
    ) -> tuple[tuple[list[str], int], int]:
        """`list_documents` and `slot`'s position, read in the same round trip."""
        counted, documents, position = await self._counted_page(
            *self._view.list_reads(query), slot=slot
        )
        return documents_counted(documents, counted), position or 0

    async def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        counts, documents, _ = await self._counted_page(
            *self._view.status_list_reads(query)
        )
        return documents_by_status(documents, counts)

    async def _counted_page(
        self, count: Statement, page: Statement, slot: int | None = None
    ) -> tuple[list[Any], list[str], int | None]:
        """The count's records, the page's documents and `slot`'s position (if asked).

        A list's count walks every row the caller may see (most of the database's
        work for a list); it is kept per statement and view position, which every
        fold moves, so it is asked again only once the rows may have changed. The
        position is the one this process knows (`known_position`: it may be behind
        the view, never ahead, so a count kept under it is never older than it);
        where it knows none, the view's own goes in one pipeline with the page.
        """
        position = self._known_position()
        if position is not None:
            key = (position, count[0], *count[1])
            counted = self._counts.get(key)
            if counted is not None:
                return counted, *(await self._page(page, slot))
        # The page first: the rows' lock before the counts' or the tracking's
        # (projections.postgres_reads.each). Either snapshot is at least `position`.
        second = self._view.position_read() if position is None else count
        statements = [page, second]
        if slot is not None and self._positions_sql is not None:
            statements.append((self._positions_sql, [[slot]]))
        results = await self._reads.each(*statements)
        slot_position = None
        if len(results) > len(("page", "second")):
            records = results.pop()
            slot_position = records[0]["position"] if records else 0
        documents, found = results
        if position is None:
            counted = await self._count_at(found[0]["n"], count)
        else:
            counted = found
            self._keep((position, count[0], *count[1]), counted)
        return counted, documents_of(documents), slot_position

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
