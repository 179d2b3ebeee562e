"""NATS stopped for seconds under 30 running exports: every job rides it out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

from domain.batch_jobs import BatchJobStatus
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.worker_process import running_worker
from tests.integration.faults import (
    all_final,
    check_files,
    check_history,
    check_stream,
    create_exports,
    seed_catalog,
    statuses,
    until,
)
from tests.integration.test_nats_restart import RestartableNats

pytestmark = pytest.mark.integration
JOBS = 30
PRODUCTS = 60
OUTAGE_SECONDS = 5.0


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[RestartableNats]:
    server = RestartableNats(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def keeper(
    nats_settings: Settings, nats: RestartableNats
) -> AsyncIterator[Runtime]:
    """API and projections; every job runs on the worker, files in the object store."""
    settings = msgspec.structs.replace(
        nats_settings,
        nats_url=nats.url,
        file_store="nats",
        file_bucket=f"files-{uuid.uuid4().hex[:8]}",
        worker_concurrency=JOBS,  # every export in flight when the broker goes
        type_concurrency=f"product-export={JOBS}",  # above the default 4
    )
    runtime = Runtime(settings, process_jobs=False)
    runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.to_thread(runtime.stop)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_every_export_rides_out_a_broker_outage(
    keeper: Runtime, nats: RestartableNats
) -> None:
    seed_catalog(keeper, PRODUCTS)
    jobs = create_exports(keeper, JOBS, page_size=3)
    settings = keeper.settings

    async with running_relay(settings) as relay, running_worker(settings):
        await until(
            lambda: statuses(keeper, jobs)["processing"] >= 5,
            seconds=30,
            what="exports processing",
        )
        # Not in asyncio.to_thread: the running jobs hold the loop's executor threads.
        nats.stop()
        await asyncio.sleep(OUTAGE_SECONDS)
        nats.start()
        await until(lambda: all_final(keeper, jobs), seconds=40, what="all final")
        head = keeper.app.recorder.max_notification_id() or 0
        await until(lambda: relay.position >= head, seconds=10, what="relayed")

    assert statuses(keeper, jobs) == {BatchJobStatus.COMPLETED.value: JOBS}
    for job in jobs:
        check_history(keeper.app, job)
    await check_stream(settings, keeper.app, jobs)
    check_files(keeper.app, keeper.files, jobs, PRODUCTS)
