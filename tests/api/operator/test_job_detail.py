"""GET /admin/jobstream/jobs/{id}, /events and /state: the job, its runs, its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.leases import LeaseStep
from service.runtime import Runtime
from tests.api.operator.jobs_support import job_in, refused
from tests.support import Caller, wait_for_status

NOT_YOURS = "Cannot access a batch job that does not belong to the logged in user"


def detail(client: TestClient[Any], caller: Caller, job_id: str) -> dict[str, Any]:
    response = client.get(f"/admin/jobstream/jobs/{job_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def retried_then_leased(runtime: Runtime, owner: Caller, holder: str) -> BatchJob:
    """Processing: a first run gave up with a retry, `holder` runs it again now."""
    job = BatchJob.create(
        batch_type="product-export", created_by=owner.user.id, context={},
        dry_run=False, actor=owner.user.id,
    )  # fmt: skip
    now = datetime.now(UTC)
    job.take_lease("worker:a:1", LeaseStep.PRE_PROCESSING, now, 60)
    job.set_pre_processing_done("worker:a:1")
    job.claim("worker:a:1", now, 60)
    job.record_retry("worker:a:1", "the store timed out", 1, now + timedelta(60))
    job.take_lease(holder, LeaseStep.PROCESSING, now, 600)
    runtime.settle(runtime.app.save(job)[-1].notification.id)
    return job


def test_an_admin_sees_the_lease_and_every_run_of_a_member_s_job(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    job = retried_then_leased(runtime, member, "worker:b:2")

    body = detail(client, admin, job.id)

    assert body["batch_job"]["id"] == job.id
    assert body["batch_job"]["status"] == "processing"
    assert body["batch_job"]["created_by"] == member.user.id
    lease = body["lease"]
    assert (lease["holder"], lease["step"], lease["attempt"]) == (
        "worker:b:2", "processing", 2,
    )  # fmt: skip
    expires = datetime.fromisoformat(lease["expires_at"])
    assert expires > datetime.now(UTC) + timedelta(seconds=500)
    runs = [
        (a["step"], a["attempt"], a["holder"], a["error"]) for a in body["attempts"]
    ]
    assert runs == [
        ("pre_processing", 1, "worker:a:1", None),
        ("processing", 1, "worker:a:1", "the store timed out"),
        ("processing", 2, "worker:b:2", None),
    ]
    assert all(datetime.fromisoformat(a["at"]) for a in body["attempts"])
    assert body["retry_of"] is None
    assert body["retries"] == []


@pytest.mark.parametrize("processing", [True], ids=["working"])
def test_a_job_a_worker_is_running_shows_its_lease_and_run(
    client: TestClient[Any], admin: Caller, member: Caller
) -> None:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {"pages": 8, "sleep": 0.25}},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["batch_job"]["id"]
    wait_for_status(client, member, job_id, {"processing"})

    body = detail(client, admin, job_id)

    assert body["batch_job"]["status"] == "processing"
    lease = body["lease"]
    assert lease["holder"].startswith("worker:")
    assert (lease["step"], lease["attempt"]) == ("processing", 1)
    assert body["attempts"][-1]["holder"] == lease["holder"]
    assert [(a["step"], a["attempt"]) for a in body["attempts"]] == [
        ("pre_processing", 1),
        ("processing", 1),
    ]
    client.post(f"/admin/batch-jobs/{job_id}/cancel", headers=member.headers)


def test_a_job_between_steps_has_no_lease(
    client: TestClient[Any], runtime: Runtime, member: Caller
) -> None:
    job = job_in(runtime, member, BatchJobStatus.COMPLETED)

    body = detail(client, member, job.id)

    assert body["lease"] is None
    assert body["attempts"] == []
    assert body["batch_job"]["status"] == "completed"


@pytest.mark.parametrize("path", ["", "/events", "/state?version=1"])
def test_a_member_may_not_read_another_user_s_job(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    member: Caller,
    path: str,
) -> None:
    job = job_in(runtime, admin)

    response = client.get(
        f"/admin/jobstream/jobs/{job.id}{path}", headers=member.headers
    )

    assert refused(response, 400, "not_allowed") == NOT_YOURS


@pytest.mark.parametrize("path", ["", "/events", "/state?version=1"])
def test_an_unknown_job_is_not_found(
    client: TestClient[Any], admin: Caller, path: str
) -> None:
    response = client.get(
        f"/admin/jobstream/jobs/batch_missing{path}", headers=admin.headers
    )

    message = refused(response, 404, "not_found")
    assert message == "Batch job with id batch_missing was not found"


def test_an_admin_reads_a_member_s_events_as_the_member_does(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    job = job_in(runtime, member, BatchJobStatus.CANCELED)

    as_admin = client.get(
        f"/admin/jobstream/jobs/{job.id}/events", headers=admin.headers
    )
    as_member = client.get(f"/admin/batch-jobs/{job.id}/events", headers=member.headers)

    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json() == as_member.json()
    events = as_admin.json()["events"]
    assert [(e["version"], e["name"]) for e in events] == [
        (1, "batch.created"),
        (2, "batch.canceled"),
    ]
    assert events[1]["actor"] == member.user.id


def test_the_state_at_a_version_is_the_job_as_it_stood_then(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    job = job_in(runtime, member, BatchJobStatus.PROCESSING, result={"count": 3})
    base = f"/admin/jobstream/jobs/{job.id}/state"

    states = [
        client.get(f"{base}?version={v}", headers=admin.headers) for v in (1, 2, 5)
    ]

    assert [r.status_code for r in states] == [200, 200, 200]
    first, second, last = (r.json() for r in states)
    assert first["version"] == 1
    assert first["batch_job"]["status"] == "created"
    assert first["batch_job"]["result"] is None
    assert second["batch_job"]["result"] == {"count": 3}
    assert last["batch_job"]["status"] == "processing"
    assert last["batch_job"] == detail(client, admin, job.id)["batch_job"]


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("0", "version must be between 1 and 2, the batch job's versions"),
        ("3", "version must be between 1 and 2, the batch job's versions"),
        ("two", "version must be a whole number: the event to show the job after"),
        ("", "version must be a whole number: the event to show the job after"),
    ],
)
def test_a_version_the_job_never_had_is_a_400(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    version: str,
    message: str,
) -> None:
    job = job_in(runtime, admin, BatchJobStatus.CANCELED)

    response = client.get(
        f"/admin/jobstream/jobs/{job.id}/state?version={version}",
        headers=admin.headers,
    )

    assert refused(response, 400, "invalid_data") == message


def test_a_missing_version_is_a_400(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = job_in(runtime, admin)

    response = client.get(
        f"/admin/jobstream/jobs/{job.id}/state", headers=admin.headers
    )

    message = refused(response, 400, "invalid_data")
    assert message.startswith("version must be a whole number")
