"""PostgreSQL restarted under `serve` running 30 exports: every job completes once."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from service.bootstrap.stores import build_app
from service.files.backends import build_file_storage
from service.settings import Settings
from tests.conftest import make_settings
from tests.integration.conftest import free_port
from tests.integration.faults import (
    bucket_keys,
    check_files,
    check_history,
    check_stream,
)
from tests.integration.private_postgres import PrivatePostgres
from tests.integration.processes import start_role, wait_for_log
from tests.integration.test_processes import create_user

pytestmark = pytest.mark.integration
JOBS = 30
PRODUCTS = 30
TOKEN = "pg-restart-token"


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def serve_settings(
    postgres: PrivatePostgres, nats_url: str, tmp_path: Path
) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return msgspec.structs.replace(
        make_settings(tmp_path, postgres.url),
        port=free_port(),
        nats_url=nats_url,
        nats_stream=f"JOBS_{tag}",
        nats_subject_prefix=f"t{tag}",
        worker_durable=f"workers-{tag}",
        file_store="nats",
        file_bucket=f"files-{tag}",
        lease_seconds=3.0,
        worker_concurrency=8,
    )


def stop_or_kill(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not exited in 20 s: never left running."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


async def health(client: httpx.AsyncClient) -> int:
    try:
        return (await client.get("/health", timeout=3)).status_code
    except httpx.HTTPError:
        return 0  # no answer at all: not what is asked for


async def health_becomes(
    client: httpx.AsyncClient, status: int, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while (seen := await health(client)) != status:
        assert time.monotonic() < deadline, f"/health stayed {seen}, never {status}"
        await asyncio.sleep(0.1)


async def statuses(client: httpx.AsyncClient, jobs: list[str]) -> list[str]:
    """Each job's status; a 503 (the database seen as away: retry) is asked again."""
    for _ in range(100):
        listed = await client.get("/admin/batch-jobs", params={"limit": 100})
        if listed.status_code != 503:
            break
        await asyncio.sleep(0.2)
    assert listed.status_code == 200, listed.text
    by_id = {job["id"]: job["status"] for job in listed.json()["batch_jobs"]}
    return [by_id.get(job, "missing") for job in jobs]


async def until_one_processes(
    client: httpx.AsyncClient, jobs: list[str], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while "processing" not in (seen := await statuses(client, jobs)):
        assert time.monotonic() < deadline, f"no export processing: {seen}"
        await asyncio.sleep(0.05)


async def test_every_export_completes_once_across_a_postgres_restart(
    postgres: PrivatePostgres, serve_settings: Settings, tmp_path: Path
) -> None:
    settings = serve_settings
    create_user(settings, TOKEN)
    log = tmp_path / "serve.log"
    server = start_role(settings, "serve", log)
    try:
        # A loaded machine (CI, the other tests) may take long to start it.
        await asyncio.to_thread(wait_for_log, log, "worker.started", 90)
        # The worker starts in the jobs process, the API in its own: both, in any order.
        await asyncio.to_thread(wait_for_log, log, "http.listening", 90)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.port}",
            headers={"x-medusa-access-token": TOKEN},
        ) as client:
            for n in range(PRODUCTS):
                body = {
                    "title": f"Product {n}",
                    "variants": [
                        {"title": "One",
                         "prices": [{"currency_code": "usd", "amount": 100}]}
                    ],
                }  # fmt: skip
                created = await client.post("/admin/products", json=body)
                assert created.status_code == 200, created.text
            jobs = []
            for _ in range(JOBS):
                created = await client.post(
                    "/admin/batch-jobs",
                    json={"type": "product-export", "context": {"limit": 1}},
                )
                assert created.status_code == 201, created.text
                jobs.append(created.json()["batch_job"]["id"])
            await health_becomes(client, 200, seconds=10)
            # The restart must land while exports run, not after they all ended.
            await until_one_processes(client, jobs, seconds=30)

            await asyncio.to_thread(postgres.stop, "fast")  # every connection cut
            await health_becomes(client, 503, seconds=30)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(postgres.start)
            await health_becomes(client, 200, seconds=30)

            # Completeness is the claim, not speed: generous on a loaded machine.
            deadline = time.monotonic() + 120
            while not all(
                status in {"completed", "failed", "canceled"}
                for status in await statuses(client, jobs)
            ):
                assert time.monotonic() < deadline, await statuses(client, jobs)
                await asyncio.sleep(0.2)
            final = await statuses(client, jobs)
    finally:
        await asyncio.to_thread(stop_or_kill, server)

    assert final == ["completed"] * JOBS
    app, files = build_app(settings), build_file_storage(settings)
    try:
        for job in jobs:
            check_history(app, job)
        await check_stream(settings, app, jobs)
        check_files(app, files, jobs, PRODUCTS, await bucket_keys(settings))
    finally:
        files.close()
        app.close()
