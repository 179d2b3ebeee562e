"""POST /admin/jobstream/jobs/cancel: several jobs at once, each with its own outcome."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.batch_jobs import BatchJobStatus
from service.runtime import Runtime
from tests.api.operator.jobs_support import ids, job_in, listed, refused
from tests.support import Caller, named

NOT_YOURS = "Cannot access a batch job that does not belong to the logged in user"


def cancel(client: TestClient[Any], caller: Caller, body: Any) -> Any:
    return client.post(
        "/admin/jobstream/jobs/cancel", json=body, headers=caller.headers
    )


def test_an_admin_cancels_any_user_s_jobs_and_learns_why_others_were_not(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    theirs = job_in(runtime, member, BatchJobStatus.PROCESSING)
    own = job_in(runtime, admin, BatchJobStatus.PRE_PROCESSED)
    done = job_in(runtime, member, BatchJobStatus.COMPLETED)

    response = cancel(
        client, admin, {"ids": [theirs.id, done.id, "batch_missing", own.id, own.id]}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "canceled": [theirs.id, own.id],
        "errors": [
            {
                "id": done.id,
                "type": "not_allowed",
                "message": "Cannot cancel completed batch job",
            },
            {
                "id": "batch_missing",
                "type": "not_found",
                "message": "Batch job with id batch_missing was not found",
            },
        ],
    }
    # Read your writes: the next list shows the cancels.
    now_canceled = listed(client, admin, "?status=canceled")
    assert sorted(ids(now_canceled)) == sorted([theirs.id, own.id])
    events = named(runtime.app.repository.event_store.get(theirs.id))
    assert events[-1] == ("batch.canceled", admin.user.id)
    assert listed(client, admin, "?status=completed")["count"] == 1


def test_a_member_cancels_own_jobs_only(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    own = job_in(runtime, member)
    not_own = job_in(runtime, admin)

    response = cancel(client, member, {"ids": [own.id, not_own.id]})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "canceled": [own.id],
        "errors": [{"id": not_own.id, "type": "not_allowed", "message": NOT_YOURS}],
    }
    assert listed(client, admin, f"?q={not_own.id}")["jobs"][0]["status"] == "created"
    medusa = client.get(f"/admin/batch-jobs/{own.id}", headers=member.headers)
    assert medusa.json()["batch_job"]["status"] == "canceled"


@pytest.mark.parametrize(
    "body",
    [
        {"ids": []},
        {"ids": [f"batch_{n}" for n in range(501)]},
        {"ids": "batch_1"},
        {"ids": [1, 2]},
        {"ids": [""]},
        {},
    ],
    ids=["none", "too-many", "not-a-list", "not-strings", "empty-id", "no-ids"],
)
def test_a_body_without_1_to_500_ids_is_a_400(
    client: TestClient[Any], admin: Caller, body: dict[str, Any]
) -> None:
    response = cancel(client, admin, body)

    message = refused(response, 400, "invalid_data")
    assert message == "ids must be an array of 1 to 500 batch job ids (strings)"


def test_an_unknown_property_is_named(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = job_in(runtime, admin)

    response = cancel(client, admin, {"ids": [job.id], "force": True})

    assert refused(response, 400, "invalid_data") == "property force should not exist"
    assert listed(client, admin)["jobs"][0]["status"] == "created"


def test_a_body_that_is_not_json_is_a_400(
    client: TestClient[Any], admin: Caller
) -> None:
    response = client.post(
        "/admin/jobstream/jobs/cancel",
        content=b'{"ids": ["batch_1"',
        headers={**admin.headers, "content-type": "application/json"},
    )

    message = refused(response, 400, "invalid_data")
    assert message.startswith("Malformed JSON in request body")
