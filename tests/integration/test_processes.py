"""Roles as real processes: relays killed and taken over, `serve` over NATS."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import msgspec
import pytest

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.integration.conftest import free_port
from tests.integration.processes import (
    environment,
    install_test_strategy,
    log_events,
    start_role,
    wait_for_log,
)
from tests.integration.test_relay import head, seed_histories, stream_messages, until
from tests.support import ScriptedStrategy

pytestmark = pytest.mark.integration


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(signum)
    return process.wait(timeout=20)


async def test_a_standby_relay_process_takes_over_from_a_killed_one(
    nats_settings: Settings, tmp_path: Path
) -> None:
    logs = [tmp_path / "relay-0.log", tmp_path / "relay-1.log"]
    relays = [start_role(nats_settings, "relay", log) for log in logs]
    try:
        for log in logs:
            await asyncio.to_thread(wait_for_log, log, "relay.started")
        early = seed_histories(nats_settings, 5)
        await until(lambda: any("relay.leading" in log_events(log) for log in logs))
        leader = next(
            i for i, log in enumerate(logs) if "relay.leading" in log_events(log)
        )
        standby = 1 - leader
        # Mid-stream: a big page of work, and the leader killed while it publishes.
        bulk = seed_histories(nats_settings, 400)
        await until(lambda: "relay.published" in log_events(logs[leader]))
        relays[leader].send_signal(signal.SIGKILL)
        relays[leader].wait(timeout=10)
        assert "relay.published" not in log_events(logs[standby])  # it stood by

        await asyncio.to_thread(wait_for_log, logs[standby], "relay.leading")
        late = seed_histories(nats_settings, 5)
        target = head(nats_settings)

        async def relayed_everything() -> bool:
            messages = await stream_messages(nats_settings)
            return bool(messages) and messages[-1][1].position >= target

        for _ in range(400):
            if await relayed_everything():
                break
            await asyncio.sleep(0.05)
        # The killed relay restarts: it stands by and publishes nothing.
        restarted_log = tmp_path / "relay-restarted.log"
        relays[leader] = start_role(nats_settings, "relay", restarted_log)
        await asyncio.to_thread(wait_for_log, restarted_log, "relay.started")
        await asyncio.sleep(0.5)
        assert "relay.leading" not in log_events(restarted_log)
    finally:
        for relay in relays:
            stop(relay, signal.SIGKILL)

    messages = await stream_messages(nats_settings)
    per_job = Counter(message.job_id for _, message, _ in messages)
    for batch in (early, bulk, late):
        assert {job: per_job[job] for job in batch} == batch  # none lost, none twice
    positions = [message.position for _, message, _ in messages]
    assert positions == sorted(positions)


def create_user(settings: Settings, token: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "service", "user", "create", "-e", "admin@test.dev",
         "-p", "secret-password", "--api-token", token],
        env=environment(settings),
        check=True,
        capture_output=True,
    )  # fmt: skip


async def test_serve_with_nats_runs_jobs_through_the_stream_and_stops_cleanly(
    nats_settings: Settings, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(nats_settings, port=free_port())
    plugins = install_test_strategy(tmp_path / "plugins")
    create_user(settings, "serve-token")
    log = tmp_path / "serve.log"
    server = start_role(settings, "serve", log, plugins)
    try:
        # The worker starts in the jobs process, the API in its own: both, in any order.
        await asyncio.to_thread(wait_for_log, log, "worker.started")
        await asyncio.to_thread(wait_for_log, log, "http.listening")
        headers = {"x-medusa-access-token": "serve-token"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.port}", headers=headers
        ) as client:
            created = await client.post(
                "/admin/batch-jobs",
                json={"type": "product-export", "context": {"pages": 3}},
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["batch_job"]["id"]
            for _ in range(300):
                job = (await client.get(f"/admin/batch-jobs/{job_id}")).json()
                if job["batch_job"]["status"] == "completed":
                    break
                await asyncio.sleep(0.05)
            details = (await client.get("/health/details")).json()
    finally:
        exit_code = await asyncio.to_thread(stop, server)

    assert job["batch_job"]["status"] == "completed"
    assert job["batch_job"]["jobstream"]["attempts"] == {
        "pre_processing": 1,
        "processing": 1,
    }
    assert details["nats"] == "ok"
    events = log_events(log)
    assert "relay.leading" in events and "worker.started" in events
    assert "processor.completed" in events
    messages = await stream_messages(settings)
    names = [m.event for _, m, _ in messages if m.job_id == job_id]
    assert names[:2] == ["batch.created", "batch.lease_taken"]
    assert names[-1] == "batch.completed"
    # A graceful stop: the worker and relay drain before the runtime closes. uvicorn
    # then ends the process with the signal it caught, as a shell expects.
    assert exit_code == -signal.SIGTERM
    stops = [event for event in log_events(log) if event.endswith(".stopped")]
    assert stops == ["worker.stopped", "relay.stopped", "runtime.stopped"]


async def test_a_worker_on_sigterm_finishes_its_job_takes_no_new_one_and_exits(
    nats_settings: Settings, tmp_path: Path
) -> None:
    plugins = install_test_strategy(tmp_path / "plugins")
    keeper = Runtime(
        nats_settings,
        registry=StrategyRegistry([ScriptedStrategy()]),
        process_jobs=False,
    )
    keeper.start()
    log = tmp_path / "worker.log"
    try:
        draft = BatchJobDraft(
            type="product-export", context={"pages": 20, "sleep": 0.1}, dry_run=False
        )
        running = keeper.app.create_batch_job(draft, "usr_1")[0].id
        async with running_relay(nats_settings):
            worker = start_role(nats_settings, "worker", log, plugins)
            await until(
                lambda: (
                    keeper.app.get_batch_job(running).status
                    is BatchJobStatus.PROCESSING
                ),
                seconds=30,
            )
            worker.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)  # it has stopped fetching
            later = keeper.app.create_batch_job(draft, "usr_1")[0].id
            exit_code = await asyncio.to_thread(worker.wait, 30)
            await asyncio.sleep(0.5)  # nothing else would take `later` either
        finished = keeper.app.get_batch_job(running)
        waiting = keeper.app.get_batch_job(later)
    finally:
        await asyncio.to_thread(keeper.stop)

    assert exit_code == 0
    assert finished.status is BatchJobStatus.COMPLETED
    assert (finished.result or {})["advancement_count"] == 20  # finished, not cut
    assert waiting.status is BatchJobStatus.CREATED  # left in JetStream for others
    assert log_events(log)[-1] == "worker.stopped"
