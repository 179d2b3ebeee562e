"""A node of a 3-node NATS cluster killed under running exports: nothing is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import nats
import pytest

from domain.batch_jobs import BatchJobStatus
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings, nats_servers
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
from tests.integration.nats_cluster import NatsCluster

pytestmark = pytest.mark.integration
JOBS = 20
PRODUCTS = 60


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nodes = NatsCluster(tmp_path / "cluster")
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
async def keeper(
    nats_settings: Settings, cluster: NatsCluster
) -> AsyncIterator[Runtime]:
    """API and projections; the jobs run on the worker, files in an R3 object store."""
    settings = msgspec.structs.replace(
        nats_settings,
        nats_url=cluster.url,
        nats_replicas=3,  # the stream and the file bucket
        file_store="nats",
        file_bucket=f"files-{uuid.uuid4().hex[:8]}",
        worker_concurrency=JOBS,
        type_concurrency=f"product-export={JOBS}",  # above the default 4
    )
    runtime = Runtime(settings, process_jobs=False)
    runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.to_thread(runtime.stop)


async def stream_leader(settings: Settings) -> str:
    assert settings.nats_url is not None
    nc = await nats.connect(nats_servers(settings.nats_url))
    try:
        info = await nc.jetstream().stream_info(settings.nats_stream)
        assert info.config.num_replicas == 3
        assert info.cluster is not None and info.cluster.leader is not None
        return info.cluster.leader
    finally:
        await nc.close()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_exports_complete_once_when_the_stream_leader_node_is_killed(
    keeper: Runtime, cluster: NatsCluster
) -> None:
    seed_catalog(keeper, PRODUCTS)
    jobs = create_exports(keeper, JOBS, page_size=3)
    settings = keeper.settings

    async with running_relay(settings) as relay, running_worker(settings):
        await until(
            lambda: statuses(keeper, jobs)["processing"] >= JOBS // 4,
            seconds=30,
            what="exports processing",
        )
        # The stream's leader: its replicas must elect another and carry on.
        cluster.node(await stream_leader(settings)).kill()
        await until(lambda: all_final(keeper, jobs), seconds=40, what="all final")
        head = keeper.app.recorder.max_notification_id() or 0
        # Acks in flight to the killed leader time out (5 s), then the page goes
        # again to the new leader: well within 20 s, even on a loaded runner.
        await until(lambda: relay.position >= head, seconds=20, what="relayed")

    assert statuses(keeper, jobs) == {BatchJobStatus.COMPLETED.value: JOBS}
    for job in jobs:
        check_history(keeper.app, job)
    await check_stream(settings, keeper.app, jobs)
    check_files(keeper.app, keeper.files, jobs, PRODUCTS)
