"""After a 2xx write, the caller's next GET and list show it: never a stale view."""

from __future__ import annotations

import threading
from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.support import Caller, named, seed_job


def test_each_created_job_is_at_once_in_get_and_list(
    client: TestClient[Any], admin: Caller
) -> None:
    for index in range(1, 31):
        created = client.post(
            "/admin/batch-jobs",
            json={"type": "product-export", "context": {"n": index}, "dry_run": True},
            headers=admin.headers,
        )
        job_id = created.json()["batch_job"]["id"]

        got = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)
        listed = client.get("/admin/batch-jobs?limit=1", headers=admin.headers).json()

        assert got.status_code == 200
        assert got.json()["batch_job"]["context"]["n"] == index
        assert listed["count"] == index
        assert listed["batch_jobs"][0]["id"] == job_id


def test_a_cancel_is_seen_by_the_next_get(
    client: TestClient[Any], admin: Caller
) -> None:
    for _ in range(10):
        job_id = client.post(
            "/admin/batch-jobs",
            json={"type": "product-export", "context": {}, "dry_run": True},
            headers=admin.headers,
        ).json()["batch_job"]["id"]

        canceled = client.post(
            f"/admin/batch-jobs/{job_id}/cancel", headers=admin.headers
        )
        assert canceled.status_code == 200, canceled.text
        got = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)

        assert got.json()["batch_job"]["status"] == "canceled"
        assert got.json()["batch_job"]["canceled_at"] is not None


def test_concurrent_writes_racing_the_processor_are_all_recorded(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    # Group commit batches these cancels with the processor's writes to the same jobs;
    # a batch lost to a conflict must be retried, never dropped.
    jobs = [seed_job(runtime, admin.user.id) for _ in range(30)]
    errors: list[BaseException] = []

    def cancel(job_id: str) -> None:
        try:
            runtime.app.cancel_batch_job(job_id, admin.user.id)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=cancel, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    for job_id in jobs:
        names = [
            name for name, _ in named(runtime.app.repository.event_store.get(job_id))
        ]
        assert "batch.canceled" in names
        got = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)
        assert got.json()["batch_job"]["status"] == "canceled"
