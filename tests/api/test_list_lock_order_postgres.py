"""A list never deadlocks with a live rebuild taking the view's locks.

A list's statements go in one pipeline (or transaction), which holds each table's
lock until the last is answered. A live rebuild locks the view's tables rows first,
then counts and tracking (projections.swap.lock); a list that read the counts before
the rows could hold the counts' lock while waiting for the rows', and the two waited
for each other (seen in CI: DeadlockDetected). The lists read the rows first now.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.postgres_async import AsyncPostgresBatchJobsReads
from projections.batch_jobs.query import BatchJobQuery
from service.runtime import Runtime
from service.settings import Settings
from tests.support import seed_job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]


def sync_list(view: PostgresBatchJobsView, query: BatchJobQuery) -> Any:
    return view.list_documents(query)


def async_list(view: PostgresBatchJobsView, query: BatchJobQuery) -> Any:
    async def listed() -> Any:
        # A known position: the count is asked with the page (nothing cached yet).
        reads = AsyncPostgresBatchJobsReads(view, timeout=10, known_position=lambda: 1)
        try:
            return await reads.list_documents(query)
        finally:
            await reads.close()

    return asyncio.run(listed())


def waiting_on_a_lock(url: str, besides: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> %s",
            (besides,),
        ).fetchone()
    return bool(found and found[0])


@pytest.mark.parametrize("read", [sync_list, async_list])
def test_a_list_waiting_on_a_rebuilds_locks_holds_none_it_needs(
    client: TestClient[Any],  # the runtime started: its view has the seeded job
    runtime: Runtime,
    settings: Settings,
    read: Callable[[PostgresBatchJobsView, BatchJobQuery], Any],
) -> None:
    assert settings.database_url is not None
    creator = f"usr_locks_{uuid.uuid4().hex[:8]}"
    seed_job(runtime, creator)
    view = runtime.view
    assert isinstance(view, PostgresBatchJobsView)
    query = BatchJobQuery(created_by=creator, limit=10)
    outcome: dict[str, Any] = {}

    def reader() -> None:
        try:
            outcome["listed"] = read(view, query)
        except Exception as error:  # noqa: BLE001 - asserted below
            outcome["error"] = error

    with psycopg.connect(settings.database_url) as rebuild:  # one transaction
        rebuild.execute(f"LOCK TABLE {view.table} IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=reader)
        thread.start()
        deadline = time.monotonic() + 10
        while not waiting_on_a_lock(settings.database_url, rebuild.info.backend_pid):
            assert time.monotonic() < deadline, "the list never waited for the rows"
            time.sleep(0.02)
        time.sleep(0.2)  # the reader's pipeline is all sent and waiting
        # As swap.lock goes on: the counts and the tracking, while the list waits.
        rebuild.execute(
            f"LOCK TABLE {view.counts_table}, {view.tracking_table}"
            " IN ACCESS EXCLUSIVE MODE"
        )
        rebuild.rollback()
    thread.join(20)

    assert "error" not in outcome, outcome.get("error")
    documents, count = outcome["listed"]
    assert count == 1
    assert len(documents) == 1
