"""Each caller's last write, recorded in PostgreSQL for every host serving reads.

A Medusa write answers once its caller's row is committed; a read on any host
compares that row with the view's position (service.read_models
.postgres_caller_positions, projections.batch_jobs.postgres_async).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.postgres_async import (
    AsyncPostgresBatchJobsReads,
    ViewBehindError,
)
from projections.batch_jobs.query import BatchJobQuery
from projections.read_models.known import BATCH_JOBS
from service.read_models.postgres_caller_positions import (
    PostgresCallerPositions,
    last_write_read,
)
from service.runtime import Runtime
from service.settings import Settings
from tests.support import Caller, wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]


def create_dry_run(client: TestClient[Any], caller: Caller) -> dict[str, Any]:
    created = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}, "dry_run": True},
        headers=caller.headers,
    )
    assert created.status_code == 201
    job: dict[str, Any] = created.json()["batch_job"]
    return job


def test_concurrent_records_share_writes_and_a_row_only_rises(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    callers = runtime.read_models.callers
    assert isinstance(callers, PostgresCallerPositions)
    assert callers.shared
    positions = range(1, 65)
    threads = [
        threading.Thread(target=callers.record, args=(f"usr_{n % 4}", n))
        for n in positions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    callers.record("usr_0", 3)  # older than its last write: the row keeps 64

    highest = {f"usr_{k}": max(n for n in positions if n % 4 == k) for k in range(4)}
    assert {caller: callers.last_write(caller) for caller in highest} == highest
    assert callers.last_write("usr_never") == 0  # nothing to wait for

    callers.clamp(62)  # a restored database whose log ends at 62
    assert [callers.last_write(f"usr_{k}") for k in range(4)] == [62, 61, 62, 62]


def test_a_write_answers_without_the_view_and_the_next_read_shows_it(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    job = create_dry_run(client, admin)
    recorded = runtime.read_models.callers.last_write(admin.user.id)
    assert recorded is not None
    assert recorded >= 1

    got = client.get(f"/admin/batch-jobs/{job['id']}", headers=admin.headers)
    listed = client.get("/admin/batch-jobs", headers=admin.headers)

    assert got.status_code == 200
    assert got.json()["batch_job"]["id"] == job["id"]
    assert job["id"] in {j["id"] for j in listed.json()["batch_jobs"]}
    assert runtime.read_models[BATCH_JOBS.name].recorded() >= recorded


def test_an_awaited_read_refuses_a_view_behind_the_caller_or_the_start(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    created = create_dry_run(client, admin)
    wait_for_status(client, admin, created["id"], {"pre_processed"})
    view = runtime.view
    assert isinstance(view, PostgresBatchJobsView)
    query = BatchJobQuery(created_by=admin.user.id, limit=10, offset=0)
    floor = [0]

    async def read(caller_id: str) -> tuple[Any, ...]:
        reads = AsyncPostgresBatchJobsReads(
            view, timeout=5, caller_read=last_write_read, floor=lambda: floor[0]
        )
        try:
            return (
                await reads.get_document(created["id"], caller_id),
                await reads.get_document("batch_missing", caller_id),
                await reads.list_documents(query, caller_id),
            )
        finally:
            await reads.close()

    found, missing, (documents, count) = asyncio.run(read(admin.user.id))
    assert found is not None
    assert found[0] == admin.user.id
    assert created["id"] in found[1]
    assert missing is None
    assert count == 1
    assert created["id"] in documents[0]

    ahead = view.max_tracking_id(runtime.app.name) + 1
    runtime.read_models.callers.record("usr_ahead", ahead)
    with pytest.raises(ViewBehindError):
        asyncio.run(read("usr_ahead"))
    floor[0] = ahead  # a process started after the log reached `ahead`
    with pytest.raises(ViewBehindError):
        asyncio.run(read(admin.user.id))


def test_records_and_reads_reconnect_after_their_connections_were_cut(
    runtime: Runtime, client: TestClient[Any], settings: Settings
) -> None:
    # As after a database restart or a healed network cut: the pooled connections
    # are dead, and the first statement on each finds out.
    callers = runtime.read_models.callers
    callers.record("usr_cut", 5)
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        cut = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    assert cut

    callers.record("usr_cut", 7)
    assert callers.last_write("usr_cut") == 7
