"""Metrics and the system page with NATS: a worker process's heartbeat, what waits, lag.

A `jobstream worker` started as a process of its own writes its heartbeat to the
registry; the API's /admin/jobstream/system shows it alive, the relay's leader and
lag, and the JetStream figures as numbers. The Grafana dashboard's queries name only
series a real scrape declares.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from tests.api.operator.metrics_text import (
    dashboard_series,
    exposed_series,
    parse,
    value,
)
from tests.integration.processes import install_test_strategy, start_role
from tests.support import Caller, new_user

pytestmark = pytest.mark.integration

SYSTEM = "/admin/jobstream/system"


async def system_until(
    client: TestClient[Any],
    caller: Caller,
    done: Callable[[dict[str, Any]], bool],
    seconds: float = 30,
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        response = await asyncio.to_thread(client.get, SYSTEM, headers=caller.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


async def test_a_worker_process_heartbeat_and_nats_figures_reach_the_api(
    api: Runtime, nats_settings: Settings, tmp_path: Path
) -> None:
    plugins = install_test_strategy(tmp_path / "plugins")
    with TestClient(app=create_app(api, manage_runtime=False)) as client:
        admin = new_user(api)
        async with running_relay(nats_settings):
            worker = start_role(
                nats_settings, "worker", tmp_path / "worker.log", plugins
            )
            try:
                ours = f":{worker.pid}"

                def worker_alive(body: dict[str, Any]) -> bool:
                    return any(
                        w["id"].endswith(ours) and w["alive"] for w in body["workers"]
                    )

                body = await system_until(client, admin, worker_alive)
                [entry] = [w for w in body["workers"] if w["id"].endswith(ours)]
                assert entry["pid"] == worker.pid
                assert entry["in_flight"] == 0

                created = await asyncio.to_thread(
                    client.post,
                    "/admin/batch-jobs",
                    json={"type": "product-export", "context": {}, "dry_run": False},
                    headers=admin.headers,
                )
                assert created.status_code == 201, created.text

                def finished(body: dict[str, Any]) -> bool:
                    # NATS figures are kept 5 s: they show the relayed events after.
                    done = sum(m["completed"] for m in body["throughput"]) == 1
                    return done and (body["nats"]["stream_pending"] or 0) >= 1

                body = await system_until(client, admin, finished)
                # The job's events were relayed: the stream holds them.
                nats = body["nats"]
                assert isinstance(nats["stream_pending"], int)
                assert nats["stream_pending"] >= 1
                assert isinstance(nats["consumer_pending"], int)
                assert nats["consumer_pending"] >= 0
                relay = body["relay"]
                assert relay is not None
                assert relay["leader"]  # the relay running here leads
                assert isinstance(relay["lag"], int)

                scraped = await asyncio.to_thread(
                    client.get, "/metrics", headers=admin.headers
                )
                assert scraped.status_code == 200
                samples = parse(scraped.text)
                assert value(samples, "jobstream_nats_up") == 1
                assert value(samples, "jobstream_nats_stream_messages") >= 1
                consumers = {
                    dict(labels)["consumer"]
                    for name, labels in samples
                    if name == "jobstream_nats_consumer_pending"
                }
                durable = nats_settings.worker_durable
                assert consumers == {
                    f"{durable}-batch-created",
                    f"{durable}-batch-confirmed",
                }
                assert value(samples, "jobstream_worker_up", worker=entry["id"]) == 1
                assert "jobstream_relay_lag" in {name for name, _ in samples}
                # Every series the Grafana dashboard queries is one a scrape declares.
                assert dashboard_series() - exposed_series(scraped.text) == set()
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)

        # A worker that stops removes its row.
        body = await system_until(
            client,
            admin,
            lambda b: not any(w["id"] == entry["id"] for w in b["workers"]),
        )
