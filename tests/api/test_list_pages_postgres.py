"""On PostgreSQL, list pages asked for together are read together, and read the same.

Pages of one shape (one statement, each its parameters) go as one statement whose
VALUES rows carry each page's parameters; each page must come back whole, in its
own order, and to its own caller.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from projections import postgres_reads
from projections.batch_jobs.postgres import PostgresBatchJobsView, pages_found
from projections.batch_jobs.postgres_async import AsyncPostgresBatchJobsReads
from projections.batch_jobs.query import BatchJobQuery, TimeFilter
from service.runtime import Runtime
from tests.support import seed_job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]


def queries(creators: tuple[str, str]) -> list[BatchJobQuery]:
    """Pages of a few shapes, several of each (offsets, limits, creators, filters)."""
    epoch = TimeFilter("created_at", "gt", datetime(2000, 1, 1, tzinfo=UTC))
    found = [
        BatchJobQuery(created_by=creator, limit=limit, offset=offset)
        for creator in creators
        for limit, offset in ((10, 0), (10, 3), (4, 7), (10, 25), (1, 12))
    ]
    found += [
        BatchJobQuery(created_by=creator, types=("product-export",), offset=offset)
        for creator in creators
        for offset in (0, 2, 5)
    ]
    found += [
        BatchJobQuery(created_by=c, time_filters=(epoch,), descending=False, offset=o)
        for c in creators
        for o in (1, 6)
    ]
    return found


@pytest.fixture
def creators() -> tuple[str, str]:
    """This test's own: the session's database keeps earlier tests' jobs."""
    return (f"usr_pages_{uuid.uuid4().hex[:8]}", f"usr_pages_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def view(
    runtime: Runtime, client: TestClient[Any], creators: tuple[str, str]
) -> PostgresBatchJobsView:
    """Jobs of two creators and two types, projected (the client's app projects)."""
    for n in range(18):
        batch_type = "product-import" if n % 5 == 4 else "product-export"
        seed_job(runtime, creators[n % 2], batch_type=batch_type)
    view = runtime.view
    assert isinstance(view, PostgresBatchJobsView)
    # The processor pre-processes the exports and fails the imports (no strategy):
    # wait for that, so that no row changes while pages are compared.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        documents = [
            document
            for creator in creators
            for document in alone(view, BatchJobQuery(created_by=creator, limit=None))
        ]
        statuses = {json.loads(d)["status"] for d in documents}
        if len(documents) == 18 and statuses <= {"pre_processed", "failed"}:
            return view
        time.sleep(0.05)
    raise AssertionError(f"jobs not settled: {statuses}")


def alone(view: PostgresBatchJobsView, query: BatchJobQuery) -> list[str]:
    return view.list_documents(query)[0]


def test_pages_of_one_shape_read_in_one_statement_match_each_read_alone(
    view: PostgresBatchJobsView, creators: tuple[str, str]
) -> None:
    shapes: dict[str, list[tuple[BatchJobQuery, Sequence[Any]]]] = {}
    for query in queries(creators):
        sql, params = view.list_reads(query)[1]
        shapes.setdefault(sql, []).append((query, params))
    assert len(shapes) >= 3 and all(len(pages) > 1 for pages in shapes.values())
    for sql, pages in shapes.items():
        (records,) = postgres_reads.each(
            view.datastore, view.pages_read(sql, [params for _, params in pages])
        )
        together = pages_found(records)
        assert together == [alone(view, query) for query, _ in pages]
    # Not vacuous: the pages hold rows, in different orders and sizes.
    assert {len(alone(view, query)) for query in queries(creators)} >= {0, 2, 7, 9}


def test_a_page_with_the_wrong_number_of_parameters_is_refused(
    view: PostgresBatchJobsView, creators: tuple[str, str]
) -> None:
    sql, params = view.list_reads(BatchJobQuery(created_by=creators[0]))[1]
    with pytest.raises(ValueError, match="one parameter per placeholder"):
        view.pages_read(sql, [params, [*params, 1]])


def test_concurrent_lists_share_reads_and_each_gets_its_own_page(
    view: PostgresBatchJobsView, creators: tuple[str, str]
) -> None:
    expected = {query: view.list_documents(query) for query in queries(creators)}

    async def main() -> tuple[list[tuple[list[str], int]], int, int]:
        reads = AsyncPostgresBatchJobsReads(view, timeout=10, known_position=lambda: 1)
        try:
            await reads.list_documents(
                queries(creators)[0]
            )  # the pool open, counts kept
            await asyncio.gather(*(reads.list_documents(q) for q in queries(creators)))
            before = (reads._pages.batches, reads._pages.lookups)
            answers = await asyncio.gather(
                *(reads.list_documents(q) for q in queries(creators) * 3)
            )
            return (
                answers,
                reads._pages.batches - before[0],
                reads._pages.lookups - before[1],
            )
        finally:
            await reads.close()

    answers, batches, lookups = asyncio.run(main())
    assert answers == [expected[q] for q in queries(creators) * 3]
    assert lookups == len(queries(creators)) * 3
    assert batches < lookups / 4  # read together, not one statement a page
