"""NATS restarts with jobs in flight: every job still reaches a final state."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
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
from tests.integration.conftest import free_port, wait_for_port
from tests.support import ScriptedStrategy

pytestmark = pytest.mark.integration


class RestartableNats:
    """A nats-server of this test's own: the same port and store across restarts."""

    def __init__(self, store: Path) -> None:
        self.port, self.store = free_port(), store
        self.binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[RestartableNats]:
    server = RestartableNats(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def api(nats_settings: Settings, nats: RestartableNats) -> AsyncIterator[Runtime]:
    settings = msgspec.structs.replace(nats_settings, nats_url=nats.url)
    runtime = Runtime(
        settings, registry=StrategyRegistry([ScriptedStrategy()]), process_jobs=False
    )
    runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.to_thread(runtime.stop)


async def test_jobs_in_flight_survive_a_nats_restart(
    api: Runtime, nats: RestartableNats
) -> None:
    settings = api.settings
    draft = BatchJobDraft(
        type="product-export", context={"pages": 3, "sleep": 0.1}, dry_run=False
    )
    first = [api.app.create_batch_job(draft, "usr_1")[0].id for _ in range(5)]

    async with (
        running_relay(settings),
        running_worker(settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        await asyncio.sleep(0.5)  # some jobs are running now
        await asyncio.to_thread(nats.stop)
        during = [api.app.create_batch_job(draft, "usr_1")[0].id for _ in range(5)]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(nats.start)
        deadline = time.monotonic() + 60
        final = {
            BatchJobStatus.COMPLETED,
            BatchJobStatus.FAILED,
            BatchJobStatus.CANCELED,
        }
        for job_id in first + during:
            while api.app.get_batch_job(job_id).status not in final:
                assert time.monotonic() < deadline, api.app.get_batch_job(job_id).status
                await asyncio.sleep(0.05)

    statuses = [api.app.get_batch_job(job_id).status for job_id in first + during]
    assert statuses == [BatchJobStatus.COMPLETED] * 10
