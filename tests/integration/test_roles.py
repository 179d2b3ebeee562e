"""The roles as separate processes share one store: API, projections, relay, worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from service.worker_process import running_worker
from tests.support import ScriptedStrategy, new_user, wait_for_status

pytestmark = pytest.mark.integration


@pytest.fixture
async def projections(nats_settings: Settings) -> AsyncIterator[Runtime]:
    """`jobstream projections`: the read model kept by a process of its own."""
    runtime = Runtime(nats_settings, registry=StrategyRegistry(), process_jobs=False)
    runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.to_thread(runtime.stop)


async def test_the_api_alone_reads_its_writes_from_a_remote_projection(
    nats_settings: Settings, projections: Runtime
) -> None:
    api = Runtime(
        nats_settings,
        registry=StrategyRegistry([ScriptedStrategy()]),
        process_jobs=False,
        project=False,
    )
    with TestClient(app=create_app(api)) as client:
        admin = new_user(api)  # user events: not the projection's, yet waited past

        async def created_and_listed() -> tuple[dict[str, Any], dict[str, Any]]:
            created = client.post(
                "/admin/batch-jobs",
                json={"type": "product-export", "context": {}, "dry_run": False},
                headers=admin.headers,
            )
            listed = client.get("/admin/batch-jobs", headers=admin.headers)
            return created.json()["batch_job"], listed.json()

        async with (
            running_relay(nats_settings),
            running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
        ):
            job, listed = await asyncio.to_thread(asyncio.run, created_and_listed())
            done = await asyncio.to_thread(wait_for_status, client, admin, job["id"])
        health = api.health()  # while the API runs

    assert listed["count"] == 1 and listed["batch_jobs"][0]["id"] == job["id"]
    assert done["status"] == "completed"
    assert health["event_store"] == "ok"
    assert "processor" not in health
    assert "projection.batchjobs" not in health


async def test_health_details_report_nats_and_the_relays_position(
    nats_settings: Settings, projections: Runtime, nats_url: str
) -> None:
    api = Runtime(nats_settings, registry=StrategyRegistry(), process_jobs=False)
    api.start()
    try:
        async with running_relay(nats_settings) as relay:
            head = api.app.recorder.max_notification_id() or 0
            for _ in range(1000):  # until the relay has published everything
                if relay.position >= head:
                    break
                await asyncio.sleep(0.01)
            caught_up = await asyncio.to_thread(api.details)
        unreachable = msgspec.structs.replace(
            nats_settings, nats_url="nats://127.0.0.1:1"
        )
        api_without_nats = Runtime(
            unreachable, registry=StrategyRegistry(), process_jobs=False, project=False
        )
        try:
            down = await asyncio.to_thread(api_without_nats.details)
        finally:
            await asyncio.to_thread(api_without_nats.stop)
    finally:
        await asyncio.to_thread(api.stop)

    assert caught_up["nats"] == "ok"
    assert caught_up["relay_position"] == caught_up["event_store_head"]
    assert caught_up["relay_lag"] == 0
    assert str(down["nats"]).startswith("down")
    assert (
        down["status"] == "ok"
    )  # NATS is reported, not required: the outbox holds work
