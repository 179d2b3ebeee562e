"""The indexes behind the operator's list: added to an existing view, used by its query."""

from __future__ import annotations

from typing import Any

from domain.batch_jobs import BatchJobStatus
from projections.batch_jobs.query import BatchJobQuery
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import ScriptedStrategy

OPERATOR_INDEXES = {"_created", "_status_created"}


def view_indexes(runtime: Runtime) -> set[str]:
    view: Any = runtime.view
    if view.postgres:
        sql = "SELECT indexname AS name FROM pg_indexes WHERE tablename = %s"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    with view._transaction(commit=False) as curs:
        curs.execute(sql, [view.table])
        return {row["name"].removeprefix(view.table) for row in curs.fetchall()}


def drop_operator_indexes(runtime: Runtime) -> None:
    """As a view created before the operator API had them."""
    view: Any = runtime.view
    with view._transaction(commit=True) as curs:
        for suffix in OPERATOR_INDEXES:
            curs.execute(f"DROP INDEX {view.table}{suffix}")


def plan(runtime: Runtime, query: BatchJobQuery) -> str:
    """The plan of the list's page query, with sequential scans ruled out where it can."""
    view: Any = runtime.view
    page = view._page_statements(query, "document")
    with view._transaction(commit=False) as curs:
        if view.postgres:
            # A table this small is scanned whole; ask whether the index can serve.
            curs.execute("SET LOCAL enable_seqscan = off")
            curs.execute(f"EXPLAIN {page.page_sql}", page.page_params)
            return "\n".join(row["QUERY PLAN"] for row in curs.fetchall())
        curs.execute(f"EXPLAIN QUERY PLAN {page.page_sql}", page.page_params)
        return "\n".join(row["detail"] for row in curs.fetchall())


def test_an_existing_view_gains_the_indexes_at_the_next_start(
    settings: Settings, strategy: ScriptedStrategy
) -> None:
    registry = StrategyRegistry([strategy])
    first = Runtime(settings, registry=registry, process_jobs=False)
    first.start()
    try:
        assert view_indexes(first) >= OPERATOR_INDEXES
        drop_operator_indexes(first)
        assert not OPERATOR_INDEXES & view_indexes(first)
    finally:
        first.stop()

    second = Runtime(settings, registry=registry, process_jobs=False)
    second.start()
    try:
        assert view_indexes(second) >= OPERATOR_INDEXES
    finally:
        second.stop()


def test_a_status_filter_over_every_creator_reads_the_status_index(
    settings: Settings, strategy: ScriptedStrategy
) -> None:
    runtime = Runtime(
        settings, registry=StrategyRegistry([strategy]), process_jobs=False
    )
    runtime.start()
    try:
        failed = plan(
            runtime,
            BatchJobQuery(created_by=None, statuses=(BatchJobStatus.FAILED,), limit=20),
        )
        everyone = plan(runtime, BatchJobQuery(created_by=None, limit=20))
    finally:
        runtime.stop()

    table = runtime.view.table  # type: ignore[attr-defined]
    assert f"{table}_status_created" in failed
    assert f"{table}_created" in everyone
