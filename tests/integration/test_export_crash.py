"""A worker killed mid-export: another finishes the job, no partial file is left."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.http.catalog.product_bodies import validate_create
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.worker_process import running_worker
from tests.integration.processes import start_role

pytestmark = pytest.mark.integration
PRODUCTS = 1500


def seed_catalog(runtime: Runtime) -> None:
    runtime.catalog.ensure_store()
    for first in range(0, PRODUCTS, 100):
        changes = runtime.catalog.changes("usr_seed")
        for n in range(first, first + 100):
            body = {
                "title": f"Product {n}",
                "variants": [
                    {
                        "title": "One",
                        "prices": [{"currency_code": "usd", "amount": 100}],
                    }
                ],
            }
            runtime.catalog.create_product(changes, validate_create(body))
        runtime.catalog_reads.settle(changes.save())


async def until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_worker_killed_mid_export_leaves_one_whole_file(
    nats_settings: Settings, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(
        nats_settings, file_store="nats", file_bucket=f"files-{uuid.uuid4().hex[:8]}"
    )
    keeper = Runtime(settings, process_jobs=False)  # API and projections
    keeper.start()
    try:
        seed_catalog(keeper)
        strategy = keeper.registry.get("product-export")
        draft = strategy.prepare_batch_job_for_processing(
            BatchJobDraft(type="product-export", context={"limit": 1}, dry_run=False),
            "usr_1",
        )
        job_id = keeper.app.create_batch_job(draft, "usr_1")[0].id

        def progress() -> int:
            result = keeper.app.get_batch_job(job_id).result or {}
            return int(result.get("advancement_count", 0))

        async with running_relay(settings):
            doomed = start_role(settings, "worker", tmp_path / "worker.log")
            try:
                await until(lambda: progress() >= 5, seconds=60)
            finally:
                doomed.send_signal(signal.SIGKILL)
                doomed.wait(timeout=10)
            killed_key = (keeper.app.get_batch_job(job_id).result or {})["file_key"]
            at_kill = progress()
            async with running_worker(settings):
                await until(
                    lambda: keeper.app.get_batch_job(job_id).is_final, seconds=90
                )
        job = keeper.app.get_batch_job(job_id)
        result = job.result or {}
        content = b"".join(keeper.files.open_reader(result["file_key"]).chunks())
        killed_left = keeper.files.exists(killed_key)
    finally:
        await asyncio.to_thread(keeper.stop)

    assert job.status is BatchJobStatus.COMPLETED
    assert at_kill < PRODUCTS  # it really died mid-export
    assert job.attempts == {"pre_processing": 1, "processing": 2}
    assert result["file_key"] != killed_key
    assert not killed_left  # the dead attempt's partial file never appeared
    lines = [line for line in content.decode().split("\r\n") if line]
    assert len(lines) == 1 + PRODUCTS
    assert result["file_size"] == len(content)
    assert result["advancement_count"] == PRODUCTS
