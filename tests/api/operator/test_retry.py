"""POST /admin/jobstream/jobs/{id}/retry: a failed job's work runs again, linked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from litestar.testing import TestClient

from domain.batch_jobs import BatchJob
from domain.users import UserRole
from service.audit import verify
from service.audit.models import Models
from service.runtime import Runtime
from tests.api.operator.conftest import FlakyExport
from tests.support import Caller, new_user, seed_job, wait_for_status


@pytest.fixture
def processing() -> bool:
    """A worker runs the jobs: a retried job must run to its end."""
    return True


EXPORT = {"type": "product-export", "context": {"pages": 2}}
NOT_OWNER = {
    "type": "not_allowed",
    "message": "Cannot access a batch job that does not belong to the logged in user",
}


def failed_export(
    client: TestClient[Any], caller: Caller, strategy: FlakyExport
) -> dict[str, Any]:
    strategy.down = True
    created = client.post("/admin/batch-jobs", json=EXPORT, headers=caller.headers)
    assert created.status_code == 201, created.text
    job = wait_for_status(client, caller, created.json()["batch_job"]["id"])
    assert job["status"] == "failed", job
    strategy.down = False
    return job


def retry(client: TestClient[Any], caller: Caller, job_id: str) -> Any:
    return client.post(f"/admin/jobstream/jobs/{job_id}/retry", headers=caller.headers)


def events(client: TestClient[Any], caller: Caller, job_id: str) -> list[Any]:
    response = client.get(f"/admin/batch-jobs/{job_id}/events", headers=caller.headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["events"]
    return found


def test_a_retried_export_runs_to_completed_and_both_histories_link(
    client: TestClient[Any], runtime: Runtime, admin: Caller, strategy: FlakyExport
) -> None:
    failed = failed_export(client, admin, strategy)
    medusa_before = client.get(
        f"/admin/batch-jobs/{failed['id']}", headers=admin.headers
    )

    response = retry(client, admin, failed["id"])

    assert response.status_code == 201, response.text
    body = response.json()
    new = body["batch_job"]
    assert body["retry_of"] == failed["id"]
    assert new["id"] != failed["id"]
    assert (new["type"], new["created_by"], new["dry_run"]) == (
        "product-export", admin.user.id, False,
    )  # fmt: skip
    assert new["context"] == {"pages": 2, "prepared": True}  # as created
    done = wait_for_status(client, admin, new["id"])
    assert done["status"] == "completed"
    assert done["result"]["advancement_count"] == 2
    old_history = events(client, admin, failed["id"])
    assert old_history[-2]["name"] == "batch.failed"
    assert old_history[-1]["name"] == "batch.retried"
    assert old_history[-1]["payload"] == {"retry_id": new["id"]}
    assert old_history[-1]["actor"] == admin.user.id
    new_history = events(client, admin, new["id"])
    assert new_history[0]["name"] == "batch.created"
    assert new_history[0]["payload"]["retry_of"] == failed["id"]
    assert new_history[0]["actor"] == admin.user.id
    names = [e["name"] for e in new_history]
    for step in ("batch.pre_processed", "batch.confirmed", "batch.processing"):
        assert step in names
    assert names[-1] == "batch.completed"
    # Medusa's view of the failed job is what it was: failed, same updated_at.
    medusa_after = client.get(
        f"/admin/batch-jobs/{failed['id']}", headers=admin.headers
    )
    assert medusa_after.json() == medusa_before.json()
    listed = client.get("/admin/batch-jobs", headers=admin.headers).json()
    assert [j for j in listed["batch_jobs"] if j["id"] == failed["id"]] == [
        medusa_before.json()["batch_job"]
    ]
    old_job, new_job = (runtime.app.get_batch_job(i) for i in (failed["id"], new["id"]))
    assert (old_job.retries, old_job.retry_of) == ([new["id"]], None)
    assert (new_job.retry_of, new_job.retries) == (failed["id"], [])
    # The operator's detail view links both ways.
    old_detail = client.get(
        f"/admin/jobstream/jobs/{failed['id']}", headers=admin.headers
    )
    new_detail = client.get(f"/admin/jobstream/jobs/{new['id']}", headers=admin.headers)
    assert (old_detail.json()["retry_of"], old_detail.json()["retries"]) == (
        None, [new["id"]],
    )  # fmt: skip
    assert (new_detail.json()["retry_of"], new_detail.json()["retries"]) == (
        failed["id"], [],
    )  # fmt: skip
    assert [r.differences for r in verify.verify(Models.of(runtime))] == [[], []]


def test_a_job_can_be_retried_again_and_each_retry_is_linked(
    client: TestClient[Any], runtime: Runtime, admin: Caller, strategy: FlakyExport
) -> None:
    failed = failed_export(client, admin, strategy)

    first = retry(client, admin, failed["id"]).json()["batch_job"]["id"]
    second = retry(client, admin, failed["id"]).json()["batch_job"]["id"]

    retried = [
        e for e in events(client, admin, failed["id"]) if e["name"] == "batch.retried"
    ]
    assert [e["payload"]["retry_id"] for e in retried] == [first, second]
    assert runtime.app.get_batch_job(failed["id"]).retries == [first, second]
    for job_id in (first, second):
        assert wait_for_status(client, admin, job_id)["status"] == "completed"


def test_an_admin_retries_a_members_job_which_stays_the_members(
    client: TestClient[Any], admin: Caller, member: Caller, strategy: FlakyExport
) -> None:
    failed = failed_export(client, member, strategy)

    response = retry(client, admin, failed["id"])

    assert response.status_code == 201, response.text
    new = response.json()["batch_job"]
    assert new["created_by"] == member.user.id
    assert wait_for_status(client, member, new["id"])["status"] == "completed"
    created = events(client, member, new["id"])[0]
    assert (created["actor"], created["payload"]["retry_of"]) == (
        admin.user.id, failed["id"],
    )  # fmt: skip
    assert events(client, member, failed["id"])[-1]["actor"] == admin.user.id


def test_members_and_developers_retry_their_own_jobs_only(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    member: Caller,
    strategy: FlakyExport,
) -> None:
    admins = failed_export(client, admin, strategy)
    own = failed_export(client, member, strategy)
    developer = new_user(runtime, "developer", UserRole.DEVELOPER)

    refusals = [
        retry(client, member, admins["id"]),
        retry(client, developer, admins["id"]),
        retry(client, developer, own["id"]),
    ]
    allowed = retry(client, member, own["id"])

    assert [(r.status_code, r.json()) for r in refusals] == [(400, NOT_OWNER)] * 3
    assert [e["name"] for e in events(client, admin, admins["id"])][
        -1
    ] == "batch.failed"
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["batch_job"]["created_by"] == member.user.id
    assert runtime.app.get_batch_job(own["id"]).retries == [
        allowed.json()["batch_job"]["id"]
    ]


def test_only_a_failed_job_can_be_retried(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    completed = seed_job(runtime, admin.user.id, completed=True)
    running = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {"pages": 200, "sleep": 0.05}},
        headers=admin.headers,
    ).json()["batch_job"]["id"]
    wait_for_status(client, admin, running, ["processing"])

    refusals = {job_id: retry(client, admin, job_id) for job_id in (completed, running)}
    missing = retry(client, admin, "batch_missing")

    assert {i: (r.status_code, r.json()) for i, r in refusals.items()} == {
        completed: (400, {
            "type": "not_allowed",
            "message": "Only failed batch jobs can be retried; this one is completed",
        }),
        running: (400, {
            "type": "not_allowed",
            "message": "Only failed batch jobs can be retried; this one is processing",
        }),
    }  # fmt: skip
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "type": "not_found",
            "message": "Batch job with id batch_missing was not found",
        },
    )
    assert runtime.app.get_batch_job(completed).retries == []
    client.post(f"/admin/batch-jobs/{running}/cancel", headers=admin.headers)


def test_a_type_no_strategy_runs_any_more_is_not_retried(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id, batch_type="retired-type")
    runtime.app.change_batch_job(job_id, lambda job: job.set_failed("w", "gone"))

    response = retry(client, admin, job_id)

    assert (response.status_code, response.json()) == (
        404,
        {
            "type": "not_found",
            "message": "Unable to find a BatchJob strategy with the type retired-type",
        },
    )
    assert runtime.app.get_batch_job(job_id).retries == []


def test_a_job_stored_before_retries_existed_loads_and_is_retried(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = BatchJob.create(
        batch_type="product-export",
        created_by=admin.user.id,
        context={"pages": 1},
        dry_run=False,
        actor=admin.user.id,
    )
    [created] = job.collect_events()
    stored = runtime.app.mapper.to_stored_event(created)
    state = json.loads(stored.state)
    del state["retry_of"], state["class_version"]  # as version 1 stored it
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=1,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    runtime.app.recorder.insert_events([old])
    _, position = runtime.app.change_batch_job(
        job.id, lambda loaded: loaded.set_failed("w", "failed long ago")
    )
    runtime.settle(position)

    loaded = runtime.app.get_batch_job(job.id)
    response = retry(client, admin, job.id)

    assert (loaded.retry_of, loaded.retries) == (None, [])
    assert response.status_code == 201, response.text
    new_id = response.json()["batch_job"]["id"]
    assert wait_for_status(client, admin, new_id)["status"] == "completed"
    assert events(client, admin, job.id)[0]["payload"]["retry_of"] is None
