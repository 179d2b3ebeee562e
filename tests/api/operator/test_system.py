"""GET /admin/jobstream/system: the embedded worker's heartbeat, lag, throughput (admins)."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from service.runtime import Runtime
from service.settings import Settings
from service.worker_registry import WorkerEntry
from tests.support import Caller, wait_for_status


@pytest.fixture
def processing() -> bool:
    """A worker runs the jobs: their steps, counts and heartbeats are what is read."""
    return True


ROUTE = "/admin/jobstream/system"


def run_job(client: TestClient[Any], caller: Caller, context: dict[str, Any]) -> str:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": context, "dry_run": False},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["batch_job"]["id"]
    wait_for_status(client, caller, job_id)
    return job_id


def test_only_admins_see_the_system(client: TestClient[Any], member: Caller) -> None:
    assert client.get(ROUTE).status_code == 401
    refused = client.get(ROUTE, headers=member.headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "type": "not_allowed",
        "message": "Only admins may see the system's state.",
    }


def test_the_embedded_worker_is_alive_with_a_recent_heartbeat(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    response = client.get(ROUTE, headers=admin.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    now = datetime.fromisoformat(body["now"])
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    # The leases' holder name: the worker a job's lease names is found here.
    worker_id = f"worker:{socket.gethostname()}:{os.getpid()}"
    assert runtime.processing.steps.actor == worker_id
    [worker] = [w for w in body["workers"] if w["id"] == worker_id]
    assert (worker["host"], worker["pid"]) == (socket.gethostname(), os.getpid())
    assert worker["alive"] is True
    assert worker["in_flight"] == 0
    last_seen = datetime.fromisoformat(worker["last_seen"])
    assert now - last_seen < timedelta(seconds=10)
    assert datetime.fromisoformat(worker["started_at"]) <= last_seen
    # No NATS: nothing is relayed, nothing waits in a stream.
    assert body["relay"] is None
    assert body["nats"] is None


def test_read_models_show_position_head_and_lag(
    client: TestClient[Any], admin: Caller
) -> None:
    run_job(client, admin, {})

    body = client.get(ROUTE, headers=admin.headers).json()

    models = {m["name"]: m for m in body["read_models"]}
    assert set(models) == {"batchjobs", "catalog"}
    jobs = models["batchjobs"]
    assert jobs["head"] >= jobs["position"] > 0
    assert jobs["lag"] == jobs["head"] - jobs["position"]


def totals(body: dict[str, Any]) -> dict[str, int]:
    kinds = ("created", "completed", "failed", "canceled")
    return {kind: sum(m[kind] for m in body["throughput"]) for kind in kinds}


def test_throughput_counts_the_jobs_just_run_per_minute(
    client: TestClient[Any], admin: Caller
) -> None:
    # PostgreSQL's test database is the session's: other tests' jobs count too.
    before = totals(client.get(ROUTE, headers=admin.headers).json())
    run_job(client, admin, {})
    run_job(client, admin, {})
    run_job(client, admin, {"fail": "boom", "fail_times": 1})
    canceled = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}, "dry_run": True},
        headers=admin.headers,
    ).json()["batch_job"]["id"]
    wait_for_status(client, admin, canceled, {"pre_processed"})
    cancel = client.post(f"/admin/batch-jobs/{canceled}/cancel", headers=admin.headers)
    assert cancel.status_code == 200

    body = client.get(ROUTE, headers=admin.headers).json()

    minutes = body["throughput"]
    assert len(minutes) == 60
    starts = [datetime.fromisoformat(m["minute"]) for m in minutes]
    assert starts == sorted(starts)
    assert all(b - a == timedelta(minutes=1) for a, b in pairwise(starts))
    now = datetime.fromisoformat(body["now"])
    assert starts[-1] == now.replace(second=0, microsecond=0)
    after = totals(body)
    assert {kind: after[kind] - before[kind] for kind in after} == {
        "created": 4,
        "completed": 2,
        "failed": 1,
        "canceled": 1,
    }


def test_a_silent_worker_is_not_alive_and_after_an_hour_forgotten(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    registry = runtime.worker_registry()
    now = datetime.now(UTC)
    silent = WorkerEntry(
        id="worker:gone-host:1",
        host="gone-host",
        pid=1,
        started_at=now - timedelta(hours=2),
        last_seen=now - timedelta(seconds=60),
        in_flight=3,
    )
    forgotten = WorkerEntry(
        id="worker:gone-host:2",
        host="gone-host",
        pid=2,
        started_at=now - timedelta(hours=3),
        last_seen=now - timedelta(hours=1, minutes=5),
        in_flight=1,
    )
    registry.beat(forgotten)  # written before the hour's end, then silent
    registry.beat(silent)  # a beat removes rows silent for over an hour

    body = client.get(ROUTE, headers=admin.headers).json()

    workers = {w["id"]: w for w in body["workers"]}
    assert "worker:gone-host:2" not in workers
    assert workers["worker:gone-host:1"]["alive"] is False
    assert workers["worker:gone-host:1"]["in_flight"] == 3
    assert workers[runtime.processing.steps.actor]["alive"] is True
    assert stored_ids(runtime.settings) >= {"worker:gone-host:1"}
    assert "worker:gone-host:2" not in stored_ids(runtime.settings)  # deleted
    registry.remove(silent.id)
    assert "worker:gone-host:1" not in stored_ids(runtime.settings)


def stored_ids(settings: Settings) -> set[str]:
    """The registry's rows as stored, whatever their age."""
    select = "SELECT id FROM jobstream_workers"
    if settings.database_url is not None:
        with psycopg.connect(settings.database_url) as conn:
            return {row[0] for row in conn.execute(select)}
    with contextlib.closing(
        sqlite3.connect(settings.data_path / "workers.sqlite")
    ) as conn:
        return {row[0] for row in conn.execute(select)}
