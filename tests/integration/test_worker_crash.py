"""A worker killed mid-job: JetStream hands the job to another worker, which finishes it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from service.worker_process import running_worker
from tests.integration.processes import install_test_strategy, start_role
from tests.support import ScriptedStrategy, named

pytestmark = pytest.mark.integration


def worker_process(settings: Settings, plugins: Path) -> subprocess.Popen[bytes]:
    return start_role(settings, "worker", plugins / "worker.log", plugins)


async def until_status(
    runtime: Runtime, job_id: str, statuses: set[BatchJobStatus], seconds: float
) -> BatchJobStatus:
    deadline = time.monotonic() + seconds
    while (status := runtime.app.get_batch_job(job_id).status) not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"{job_id} still {status}")
        await asyncio.sleep(0.05)
    return status


async def test_a_job_whose_worker_is_killed_is_finished_by_another(
    api: Runtime, nats_settings: Settings, tmp_path: Path
) -> None:
    install_test_strategy(tmp_path / "plugins")
    draft = BatchJobDraft(
        type="product-export", context={"pages": 30, "sleep": 0.1}, dry_run=False
    )
    job_id = api.app.create_batch_job(draft, "usr_1")[0].id

    async with running_relay(nats_settings):
        doomed = worker_process(nats_settings, tmp_path / "plugins")
        try:
            await until_status(api, job_id, {BatchJobStatus.PROCESSING}, seconds=30)
            deadline = time.monotonic() + 30
            while not (api.app.get_batch_job(job_id).result or {}).get(
                "advancement_count"
            ):  # some pages done
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
        progress_at_kill = (api.app.get_batch_job(job_id).result or {}).get(
            "advancement_count", 0
        )
        async with running_worker(
            nats_settings, StrategyRegistry([ScriptedStrategy()])
        ):
            final = await until_status(
                api,
                job_id,
                {BatchJobStatus.COMPLETED, BatchJobStatus.FAILED},
                seconds=60,
            )

    assert final is BatchJobStatus.COMPLETED
    assert 0 < progress_at_kill < 30  # it really died mid-job
    names = [name for name, _ in named(api.app.repository.event_store.get(job_id))]
    assert names.count("batch.processing") == 1  # resumed, not claimed twice
    assert names.count("batch.completed") == 1
    assert (api.app.get_batch_job(job_id).result or {})["advancement_count"] == 30
    job = api.app.get_batch_job(job_id)
    assert job.attempts == {"pre_processing": 1, "processing": 2}  # the takeover
    events = named(api.app.repository.event_store.get(job_id))
    # A claim takes its lease in batch.processing; a takeover in batch.lease_taken.
    leases = ("batch.lease_taken", "batch.processing")
    takers = [actor for name, actor in events if name in leases]
    assert takers[1] != takers[2]  # pre-processing, the killed run, the takeover


async def test_a_killed_workers_job_that_nobody_takes_up_is_failed_by_the_reaper(
    nats_settings: Settings, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(nats_settings, stuck_job_seconds=1.0)
    # The projections role, no job processing: it reaps when every worker is gone.
    keeper = Runtime(
        settings, registry=StrategyRegistry([ScriptedStrategy()]), process_jobs=False
    )
    keeper.start()
    install_test_strategy(tmp_path / "plugins")
    draft = BatchJobDraft(
        type="product-export", context={"pages": 300, "sleep": 0.1}, dry_run=False
    )
    job_id = keeper.app.create_batch_job(draft, "usr_1")[0].id
    try:
        async with running_relay(settings):
            doomed = worker_process(settings, tmp_path / "plugins")
            try:
                await until_status(
                    keeper, job_id, {BatchJobStatus.PROCESSING}, seconds=30
                )
            finally:
                doomed.send_signal(signal.SIGKILL)
                doomed.wait(timeout=10)
            # Lease (3 s) lapses, then the bound (1 s); the reaper scans every 0.5 s.
            final = await until_status(
                keeper, job_id, {BatchJobStatus.FAILED}, seconds=20
            )
        job = keeper.app.get_batch_job(job_id)
        events = named(keeper.app.repository.event_store.get(job_id))
    finally:
        await asyncio.to_thread(keeper.stop)

    assert final is BatchJobStatus.FAILED
    (error,) = (job.result or {})["errors"]
    assert error.startswith(
        "Jobstream: no worker took up this batch job's processing within 1 s"
    )
    assert "(last held by worker:" in error
    name, actor = events[-1]
    assert name == "batch.failed"
    assert actor.startswith("reaper:")
