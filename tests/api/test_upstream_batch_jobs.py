"""Medusa's integration-tests/api/__tests__/batch-jobs/api.js, ported (spec §5.1)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from service.runtime import Runtime
from tests.support import Caller, seed_job

NOT_OWNER = "Cannot access a batch job that does not belong to the logged in user"


@pytest.fixture
def jobs(runtime: Runtime, admin: Caller, member: Caller) -> dict[str, str]:
    """job_1..3 by the admin, job_4 by the member, job_5 by the admin and completed."""
    suffix = admin.user.id.rsplit("_", 1)[-1]
    seeded = {
        name: seed_job(runtime, admin.user.id, f"{name}_{suffix}")
        for name in ("job_1", "job_2", "job_3")
    }
    seeded["job_4"] = seed_job(runtime, member.user.id, f"job_4_{suffix}")
    seeded["job_5"] = seed_job(
        runtime, admin.user.id, f"job_5_{suffix}", completed=True
    )
    return seeded


def test_lists_batch_jobs_created_by_the_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.get("/admin/batch-jobs", headers=admin.headers)

    assert response.status_code == 200
    batch_jobs = response.json()["batch_jobs"]
    assert len(batch_jobs) == 4
    assert {job["id"] for job in batch_jobs} == {
        jobs["job_5"],
        jobs["job_3"],
        jobs["job_2"],
        jobs["job_1"],
    }
    for job in batch_jobs:
        assert isinstance(job["created_at"], str)
        assert isinstance(job["updated_at"], str)
        assert job["created_by"] == admin.user.id


def test_lists_batch_jobs_created_by_the_user_where_completed_at_is_null(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.get("/admin/batch-jobs?completed_at=null", headers=admin.headers)

    assert response.status_code == 200
    batch_jobs = response.json()["batch_jobs"]
    assert len(batch_jobs) == 3
    assert {job["id"] for job in batch_jobs} == {
        jobs["job_3"],
        jobs["job_2"],
        jobs["job_1"],
    }
    assert all(job["created_by"] == admin.user.id for job in batch_jobs)


def test_returns_a_batch_job_created_by_the_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.get(f"/admin/batch-jobs/{jobs['job_1']}", headers=admin.headers)

    assert response.status_code == 200
    batch_job = response.json()["batch_job"]
    assert isinstance(batch_job["created_at"], str)
    assert isinstance(batch_job["updated_at"], str)
    assert batch_job["created_by"] == admin.user.id


def test_fails_on_a_batch_job_created_by_another_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.get(f"/admin/batch-jobs/{jobs['job_4']}", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {"type": "not_allowed", "message": NOT_OWNER}


def test_creates_a_batch_job(client: TestClient[Any], admin: Caller) -> None:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}},
        headers=admin.headers,
    )

    assert response.status_code == 201
    batch_job = response.json()["batch_job"]
    assert batch_job["created_by"] == admin.user.id
    assert batch_job["status"] == "created"
    assert batch_job["id"].startswith("batch_")


def test_fails_to_confirm_a_batch_job_created_by_a_different_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/batch-jobs/{jobs['job_4']}/confirm", json={}, headers=admin.headers
    )

    assert response.status_code == 400
    assert response.json() == {"type": "not_allowed", "message": NOT_OWNER}


def test_fails_to_cancel_a_batch_job_created_by_a_different_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/batch-jobs/{jobs['job_4']}/cancel", headers=admin.headers
    )

    assert response.status_code == 400
    assert response.json() == {"type": "not_allowed", "message": NOT_OWNER}


def test_fails_to_cancel_a_batch_job_that_is_already_complete(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_complete = seed_job(runtime, admin.user.id, completed=True)

    response = client.post(
        f"/admin/batch-jobs/{job_complete}/cancel", headers=admin.headers
    )

    assert response.status_code == 400
    assert response.json() == {
        "type": "not_allowed",
        "message": "Cannot cancel completed batch job",
    }


def test_cancels_a_batch_job_created_by_the_user(
    client: TestClient[Any], admin: Caller, jobs: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/batch-jobs/{jobs['job_1']}/cancel", headers=admin.headers
    )

    assert response.status_code == 200
    batch_job = response.json()["batch_job"]
    assert isinstance(batch_job["created_at"], str)
    assert isinstance(batch_job["updated_at"], str)
    assert isinstance(batch_job["canceled_at"], str)
    assert batch_job["status"] == "canceled"
