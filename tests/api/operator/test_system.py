"""GET /admin/jobstream/system: the embedded worker's heartbeat, lag, throughput (admins)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.support import Caller, wait_for_status

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
