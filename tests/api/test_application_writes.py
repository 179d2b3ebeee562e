"""Application writes: a stale copy is decided again on fresh state, never saved over it."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from domain.batch_jobs import BatchJobStatus
from service.runtime import Runtime
from tests.support import Caller, seed_job, wait_for_status


def test_a_stale_copy_conflicts_and_the_change_is_redecided(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id)
    wait_for_status(client, admin, job_id, {"pre_processed"})
    stale = runtime.app.get_batch_job(job_id)
    runtime.app.change_batch_job(job_id, lambda job: job.update("w", result={"n": 1}))

    saved, _ = runtime.app.change_batch_job(
        job_id, lambda job: job.update("w", result={"m": 2}), current=stale
    )

    assert saved.result is not None
    assert saved.result["n"] == 1 and saved.result["m"] == 2  # nothing overwritten
    assert runtime.app.get_batch_job(job_id).version == saved.version


def test_a_stale_copy_that_refuses_is_redecided_on_fresh_state(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id)
    stale_created = runtime.app.get_batch_job(job_id)  # still "created" in this copy
    wait_for_status(client, admin, job_id, {"pre_processed"})

    saved, _ = runtime.app.change_batch_job(
        job_id, lambda job: job.confirm(admin.user.id), current=stale_created
    )

    assert saved.status in {BatchJobStatus.CONFIRMED, BatchJobStatus.PROCESSING}
