"""Leases end to end: shown on the job, renewed, taken over; the reaper's own thread.

On both backends, through the embedded engine and the runtime's reaper, with short
real leases. The rules themselves (retries, lapse, takeover, fencing, limits, the
reaper's bound) are unit-tested under a fake clock in tests/unit/engine.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.leases import LeaseStep
from domain.strategies import BatchJobDraft
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, named, wait_for_status

GONE = "worker:gone-host:1"


@pytest.fixture
def processing() -> bool:
    """Whether the runtime runs jobs; the reaper runs either way (it keeps the view)."""
    return True


@pytest.fixture
def runtime(
    settings: Settings, strategy: ScriptedStrategy, processing: bool
) -> Runtime:
    short = msgspec.structs.replace(settings, lease_seconds=0.6, stuck_job_seconds=1.0)
    return Runtime(
        short, registry=StrategyRegistry([strategy]), process_jobs=processing
    )


idle = pytest.mark.parametrize("processing", [False], ids=["idle"])


def create(client: TestClient[Any], caller: Caller, context: dict[str, Any]) -> str:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": context, "dry_run": False},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["batch_job"]["id"]
    return job_id


def get(client: TestClient[Any], caller: Caller, job_id: str) -> dict[str, Any]:
    response = client.get(f"/admin/batch-jobs/{job_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()["batch_job"]
    return job


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def stranded(runtime: Runtime, owner: str, *, lapsed_seconds_ago: float) -> str:
    """A job processing under a lease whose worker is gone (it lapsed long ago)."""
    job = BatchJob.create(
        batch_type="product-export",
        created_by=owner,
        context={"pages": 2},
        dry_run=False,
        actor=owner,
    )
    job.set_pre_processing_done(GONE)
    job.set_processing(GONE)
    taken = datetime.now(UTC) - timedelta(seconds=lapsed_seconds_ago + 30)
    job.take_lease(GONE, LeaseStep.PROCESSING, taken, 30)
    runtime.settle(runtime.app.save(job)[-1].notification.id)
    return job.id


def test_a_running_job_shows_its_lease_and_renews_it(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = create(client, admin, {"pages": 5, "sleep": 0.25})

    running = wait_for_status(client, admin, job_id, {"processing"})
    lease = running["jobstream"]["lease"]
    assert lease["holder"].startswith("worker:")
    assert lease["step"] == "processing"
    assert lease["attempt"] == 1
    assert parse(lease["expires_at"]) > parse(lease["acquired_at"])
    done = wait_for_status(client, admin, job_id)

    assert done["status"] == "completed"
    assert done["jobstream"] == {
        "attempts": {"pre_processing": 1, "processing": 1},
        "lease": None,
    }
    events = named(runtime.app.repository.event_store.get(job_id))
    # 1.25 s of work under a 0.6 s lease: renewed every 0.2 s, by the holder.
    renewals = [actor for name, actor in events if name == "batch.lease_renewed"]
    assert len(renewals) >= 3
    assert set(renewals) == {lease["holder"]}


def test_a_job_whose_worker_is_gone_is_taken_over_and_finished(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    # As after a restart: the processor meets a job processing under a lapsed lease.
    job_id = stranded(runtime, admin.user.id, lapsed_seconds_ago=0.1)

    done = wait_for_status(client, admin, job_id)

    assert done["status"] == "completed"
    assert done["result"]["advancement_count"] == 2
    assert done["jobstream"]["attempts"] == {"processing": 2}
    events = named(runtime.app.repository.event_store.get(job_id))
    takers = [actor for name, actor in events if name == "batch.lease_taken"]
    assert takers[0] == GONE and takers[1].startswith("worker:") and len(takers) == 2


@idle
def test_the_reaper_fails_a_job_left_with_a_lapsed_lease(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    abandoned = stranded(runtime, admin.user.id, lapsed_seconds_ago=5)
    recent = stranded(runtime, admin.user.id, lapsed_seconds_ago=0.2)
    live = stranded(runtime, admin.user.id, lapsed_seconds_ago=-60)

    reaped = runtime.reaper.reap()

    assert reaped == [abandoned]
    # The reaper's write is not the caller's: it shows a projection round later.
    failed = wait_for_status(client, admin, abandoned)
    assert failed["status"] == "failed"
    (error,) = failed["result"]["errors"]
    assert error.startswith(
        "Jobstream: no worker took up this batch job's processing within 1 s"
    )
    assert f"(last held by {GONE})" in error
    assert failed["jobstream"]["lease"] is None
    actor = named(runtime.app.repository.event_store.get(abandoned))[-1]
    assert actor[0] == "batch.failed" and actor[1].startswith("reaper:")
    assert get(client, admin, recent)["status"] == "processing"
    assert get(client, admin, live)["status"] == "processing"
    assert runtime.reaper.reap() == []  # failed once


@idle
def test_the_running_reaper_fails_an_abandoned_job_on_its_own(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = stranded(runtime, admin.user.id, lapsed_seconds_ago=0.0)

    failed = wait_for_status(client, admin, job_id, timeout=10)

    assert failed["status"] == "failed"
    assert "no worker took up" in failed["result"]["errors"][0]


def test_a_read_model_with_old_columns_is_rebuilt_from_the_events(
    settings: Settings, strategy: ScriptedStrategy
) -> None:
    first = Runtime(settings, registry=StrategyRegistry([strategy]))
    draft = BatchJobDraft(type="product-export", context={}, dry_run=True)
    job, position = first.app.create_batch_job(draft, "usr_1")
    first.start()
    first.settle(position)
    deadline = time.monotonic() + 10
    while first.app.get_batch_job(job.id).status is not BatchJobStatus.PRE_PROCESSED:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.catch_up_read_model()
    view = first.view
    with view._transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute(f"ALTER TABLE {view.table} DROP COLUMN attempts")  # type: ignore[attr-defined]
    first.stop()

    second = Runtime(settings, registry=StrategyRegistry([strategy]))
    second.start()
    try:
        second.settle(position)
        row = second.view.get_batch_job(job.id)
    finally:
        second.stop()

    assert row is not None
    assert row.status is BatchJobStatus.PRE_PROCESSED
    assert row.attempts == {"pre_processing": 1}
