"""A list's count comes from the counts table, and always equals a full count.

The counts table keeps how many jobs each creator has of each type and status, in
the transaction that changes the rows; a list filtered by those alone sums it. Every
shape is checked against COUNT(*) over the rows, on both backends.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus
from projections.batch_jobs.query import BatchJobQuery, TimeFilter, where_clause
from projections.batch_jobs.view import SqlBatchJobsView
from service.runtime import Runtime
from service.settings import Settings
from tests.support import seed_job

pytestmark = pytest.mark.integration

CREATED, COMPLETED = BatchJobStatus.CREATED, BatchJobStatus.COMPLETED


@pytest.fixture
def runtime(views_only: Runtime) -> Runtime:
    return views_only


@pytest.fixture
def creators() -> tuple[str, str]:
    """This test's own: PostgreSQL's session database keeps earlier tests' jobs."""
    return (f"usr_counts_{uuid.uuid4().hex[:8]}", f"usr_counts_{uuid.uuid4().hex[:8]}")


def seed(runtime: Runtime, creators: tuple[str, str]) -> SqlBatchJobsView:
    """Five jobs of the first creator's (two types, two completed), one of the second's."""
    first, second = creators
    for batch_type, completed in [
        ("product-export", False),
        ("product-export", False),
        ("product-export", True),
        ("product-import", False),
        ("product-import", True),
    ]:
        seed_job(runtime, first, batch_type=batch_type, completed=completed)
    seed_job(runtime, second, completed=True)
    view = runtime.view
    assert isinstance(view, SqlBatchJobsView)
    return view


@pytest.fixture
def view(runtime: Runtime, creators: tuple[str, str]) -> SqlBatchJobsView:
    return seed(runtime, creators)


def full_count(view: SqlBatchJobsView, query: BatchJobQuery) -> int:
    where, params = where_clause(query, view.placeholder, view._encode_time)
    with view.transaction(commit=False) as curs:
        curs.execute(f"SELECT COUNT(*) AS n FROM {view.table} WHERE {where}", params)  # noqa: S608
        return int(curs.fetchone()["n"])


def shapes(creators: tuple[str, str]) -> list[BatchJobQuery]:
    found = []
    for creator in creators:
        found += [
            BatchJobQuery(created_by=creator),
            BatchJobQuery(created_by=creator, types=("product-export",)),
            BatchJobQuery(created_by=creator, types=("product-import", "nothing")),
            BatchJobQuery(created_by=creator, types=()),
            BatchJobQuery(created_by=creator, statuses=(CREATED,)),
            BatchJobQuery(created_by=creator, statuses=(CREATED, COMPLETED)),
            BatchJobQuery(
                created_by=creator, types=("product-import",), statuses=(COMPLETED,)
            ),
        ]
    return found


def test_each_count_by_creator_type_and_status_is_read_from_the_counts_table(
    view: SqlBatchJobsView, creators: tuple[str, str]
) -> None:
    expected = [3 + 2, 3, 2, 0, 3, 5, 1, 1, 1, 0, 0, 0, 1, 0]
    counted = [view.list_documents(query)[1] for query in shapes(creators)]
    assert counted == expected
    assert counted == [full_count(view, query) for query in shapes(creators)]
    for query in shapes(creators):
        count_sql = view._page_statements(query, "document").count_sql
        assert view.counts_table in count_sql


def test_other_filters_count_the_rows(
    view: SqlBatchJobsView, creators: tuple[str, str]
) -> None:
    mine = BatchJobQuery(created_by=creators[0], limit=None)
    some_id = json.loads(view.list_documents(mine)[0][0])["id"]
    for query in [
        BatchJobQuery(created_by=creators[0], ids=(some_id,)),
        BatchJobQuery(created_by=creators[0], id_prefix="batch_"),
        BatchJobQuery(
            created_by=creators[0], time_filters=(TimeFilter("failed_at", "is_null"),)
        ),
    ]:
        assert view.counts_table not in view._page_statements(query, "id").count_sql
        assert view.list_documents(query)[1] == full_count(view, query)
    by_id = BatchJobQuery(created_by=creators[0], ids=(some_id,))
    assert view.list_documents(by_id)[1] == 1


def test_counts_follow_a_job_through_its_statuses(
    runtime: Runtime, view: SqlBatchJobsView, creators: tuple[str, str]
) -> None:
    creator = creators[1]
    job_id = seed_job(runtime, creator, batch_type="product-import")
    by_status = BatchJobQuery(created_by=creator, statuses=None)

    def status_counts() -> dict[BatchJobStatus, int]:
        counts = view.list_documents_by_status(by_status).status_counts
        return {status: n for status, n in counts.items() if n}

    assert status_counts() == {CREATED: 1, COMPLETED: 1}
    job: Any = runtime.app.repository.get(job_id)
    assert isinstance(job, BatchJob)
    job.set_pre_processing_done("test")
    job.confirm("test")
    runtime.settle(runtime.app.save(job)[-1].notification.id)
    assert status_counts() == {BatchJobStatus.CONFIRMED: 1, COMPLETED: 1}
    job.set_processing("test")
    job.complete("test")
    runtime.settle(runtime.app.save(job)[-1].notification.id)
    assert status_counts() == {COMPLETED: 2}
    mine = [
        (batch_type, status, n)
        for batch_type, status, n in view.counts_by_type_and_status()
        if status == COMPLETED.value
    ]
    assert sum(n for _, _, n in mine) == full_count(
        view, BatchJobQuery(created_by=None, statuses=(COMPLETED,))
    )


def test_a_view_whose_counts_do_not_add_up_is_rebuilt_at_start(
    settings: Settings, creators: tuple[str, str]
) -> None:
    older = Runtime(settings, process_jobs=False)
    older.start()
    try:
        view = seed(older, creators)
        with view.transaction(commit=True) as curs:
            # A view written by a version without counts: rows, and no counts.
            curs.execute(f"DELETE FROM {view.counts_table}")  # noqa: S608
    finally:
        older.stop()
    runtime = Runtime(settings, process_jobs=False)
    runtime.start()
    try:
        runtime.catch_up_read_model(everything=True)
        rebuilt = runtime.view
        assert isinstance(rebuilt, SqlBatchJobsView)
        counted = [rebuilt.list_documents(q)[1] for q in shapes(creators)]
        assert counted == [full_count(rebuilt, q) for q in shapes(creators)]
        assert counted[0] == 5
        assert rebuilt.rebuild_if_outdated() is False
    finally:
        runtime.stop()
