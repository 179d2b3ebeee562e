"""After a 2xx write, the caller's next GET and list show it: never a stale view."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.support import Caller


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

        client.post(f"/admin/batch-jobs/{job_id}/cancel", headers=admin.headers)
        got = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)

        assert got.json()["batch_job"]["status"] == "canceled"
        assert got.json()["batch_job"]["canceled_at"] is not None
