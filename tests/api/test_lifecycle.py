"""Jobs driven through their strategy by the processor, as Medusa's subscriber does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from domain.batch_jobs import BatchJob
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.conftest import make_settings
from tests.support import (
    Caller,
    ScriptedStrategy,
    named,
    new_user,
    seed_job,
    wait_for_status,
)


def create(
    client: TestClient[Any], caller: Caller, context: dict[str, Any], *, dry_run: bool
) -> dict[str, Any]:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": context, "dry_run": dry_run},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()["batch_job"]
    return job


def event_names(runtime: Runtime, job_id: str) -> list[str]:
    return [name for name, _ in named(runtime.app.repository.event_store.get(job_id))]


def test_a_dry_run_job_waits_at_pre_processed_then_runs_once_confirmed(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = create(client, admin, {"pages": 2}, dry_run=True)

    waiting = wait_for_status(client, admin, job["id"], {"pre_processed"})
    assert waiting["result"]["stat_descriptors"][0]["message"] == (
        "There will be 2 pages processed"
    )
    assert waiting["confirmed_at"] is None

    confirmed = client.post(
        f"/admin/batch-jobs/{job['id']}/confirm", headers=admin.headers
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["batch_job"]["status"] in {
        "confirmed",
        "processing",
        "completed",
    }

    done = wait_for_status(client, admin, job["id"])
    assert done["status"] == "completed"
    assert done["result"]["advancement_count"] == 2
    assert done["result"]["progress"] == 1
    assert event_names(runtime, job["id"]) == [
        "batch.created",
        "batch.lease_taken",
        "batch.updated",
        "batch.pre_processed",
        "batch.confirmed",
        "batch.processing",
        "batch.updated",
        "batch.updated",
        "batch.completed",
    ]  # fmt: skip  (the claim's lease is taken in batch.processing itself)
    # Jobstream's extension: one run of each step; no lease once the job is final.
    assert done["jobstream"] == {
        "attempts": {"pre_processing": 1, "processing": 1},
        "lease": None,
    }


def test_a_job_that_is_not_a_dry_run_runs_straight_through(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = create(client, admin, {}, dry_run=False)

    done = wait_for_status(client, admin, job["id"])

    assert done["status"] == "completed"
    for stamp in ("pre_processed_at", "confirmed_at", "processing_at", "completed_at"):
        assert done[stamp] is not None
    actors = [
        actor for _, actor in named(runtime.app.repository.event_store.get(job["id"]))
    ]
    assert actors[0] == admin.user.id
    assert all(actor.startswith("worker:") for actor in actors[1:])


def test_an_error_while_processing_fails_the_job_with_the_message(
    client: TestClient[Any], strategy: ScriptedStrategy, admin: Caller
) -> None:
    job = create(client, admin, {"fail": "disk full", "fail_times": 9}, dry_run=False)

    done = wait_for_status(client, admin, job["id"])

    assert done["status"] == "failed"
    assert done["result"]["errors"] == ["disk full"]
    assert strategy.cleanups == [job["id"]]  # handle_processing_error ran


def test_an_error_while_pre_processing_fails_the_job(
    client: TestClient[Any], admin: Caller
) -> None:
    job = create(client, admin, {"fail_pre": "bad input file"}, dry_run=True)

    done = wait_for_status(client, admin, job["id"])

    assert (done["status"], done["result"]["errors"]) == ("failed", ["bad input file"])
    assert done["pre_processed_at"] is None


def test_a_retried_error_is_recorded_and_the_job_then_completes(
    client: TestClient[Any], admin: Caller
) -> None:
    job = create(
        client, admin, {"fail": "flaky", "fail_times": 1, "retry": True}, dry_run=False
    )

    done = wait_for_status(client, admin, job["id"])

    assert done["status"] == "completed"
    assert done["result"]["errors"] == ["flaky"]
    assert done["context"]["retry_count"] == 1


def test_retries_are_bounded(client: TestClient[Any], admin: Caller) -> None:
    job = create(
        client, admin, {"fail": "down", "fail_times": 99, "retry": True}, dry_run=False
    )

    done = wait_for_status(client, admin, job["id"], timeout=30)

    assert done["status"] == "failed"
    assert done["result"]["errors"] == ["down", "down", "down"]  # 3 attempts


def test_canceling_a_processing_job_ends_it_canceled(
    client: TestClient[Any], admin: Caller
) -> None:
    job = create(client, admin, {"pages": 50, "sleep": 0.05}, dry_run=False)
    wait_for_status(client, admin, job["id"], {"processing"})

    response = client.post(
        f"/admin/batch-jobs/{job['id']}/cancel", headers=admin.headers
    )
    assert response.status_code == 200

    final = wait_for_status(
        client, admin, job["id"], {"canceled", "failed", "completed"}
    )
    assert final["status"] == "canceled"
    assert final["completed_at"] is None and final["failed_at"] is None
    assert final["result"]["advancement_count"] < 50


def test_work_left_unfinished_is_picked_up_after_a_restart(
    settings: Settings, strategy: ScriptedStrategy
) -> None:
    # Written while no processor ran (as if the process died before handling it).
    offline = Runtime(settings, registry=StrategyRegistry([strategy]))
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_x", context={}, dry_run=False,
        actor="usr_x",
    )  # fmt: skip
    offline.app.save(job)
    offline.stop()

    restarted = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(restarted)):
        for _ in range(500):
            if restarted.app.get_batch_job(job.id).status == "completed":
                break
            time.sleep(0.02)
        assert restarted.app.get_batch_job(job.id).status == "completed"


def test_a_deleted_read_model_is_rebuilt_from_the_events(
    tmp_path: Path, strategy: ScriptedStrategy
) -> None:
    settings = make_settings(tmp_path)
    first = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(first)) as client:
        admin = new_user(first)
        job_ids = [seed_job(first, admin.user.id) for _ in range(3)]
        for job_id in job_ids:  # let the processor finish, so nothing changes after
            wait_for_status(client, admin, job_id, {"pre_processed"})
        before = client.get("/admin/batch-jobs", headers=admin.headers).json()

    (tmp_path / "batchjobs.sqlite").unlink()
    second = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(second)) as client:
        after = client.get("/admin/batch-jobs", headers=admin.headers).json()

    assert sorted(job["id"] for job in after["batch_jobs"]) == sorted(job_ids)
    assert after == before


def test_a_running_job_learns_of_its_cancel_from_the_event_stream(
    client: TestClient[Any], admin: Caller
) -> None:
    # The strategy never reads the job: only the signal from the event stream stops it.
    job = create(
        client, admin, {"pages": 100, "sleep": 0.05, "stream_cancel_only": True},
        dry_run=False,
    )  # fmt: skip
    wait_for_status(client, admin, job["id"], {"processing"})

    client.post(f"/admin/batch-jobs/{job['id']}/cancel", headers=admin.headers)
    pages_at_cancel = client.get(
        f"/admin/batch-jobs/{job['id']}", headers=admin.headers
    )

    final = wait_for_status(
        client, admin, job["id"], {"canceled", "failed", "completed"}
    )
    done_at_cancel = (pages_at_cancel.json()["batch_job"]["result"] or {}).get(
        "advancement_count", 0
    )
    assert final["status"] == "canceled"
    time.sleep(0.3)  # had it gone on, more pages would land now
    after = client.get(f"/admin/batch-jobs/{job['id']}", headers=admin.headers).json()
    assert after["batch_job"]["result"]["advancement_count"] <= done_at_cancel + 2
