"""GET /admin/jobstream/jobs: roles, filters, counts per status, paging, order, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from domain.batch_jobs import BatchJobStatus
from service.runtime import Runtime
from tests.api.operator.jobs_support import ids, job_in, listed, refused
from tests.support import Caller

EVERY = {status.value: 0 for status in BatchJobStatus}
STATUSES = "created, pre_processed, confirmed, processing, completed, canceled, failed"


def test_an_admin_lists_every_user_s_jobs_newest_first_with_counts(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    seeded = [
        job_in(runtime, member, BatchJobStatus.CREATED),
        job_in(runtime, admin, BatchJobStatus.PROCESSING),
        job_in(runtime, member, BatchJobStatus.FAILED),
        job_in(runtime, admin, BatchJobStatus.COMPLETED),
    ]

    body = listed(client, admin)

    assert ids(body) == [job.id for job in reversed(seeded)]
    assert body["count"] == 4
    assert (body["limit"], body["offset"]) == (20, 0)
    assert body["status_counts"] == {
        **EVERY, "created": 1, "processing": 1, "failed": 1, "completed": 1,
    }  # fmt: skip
    first = body["jobs"][0]
    assert first["status"] == "completed"
    assert first["created_by"] == admin.user.id
    assert set(first) >= {"type", "context", "result", "dry_run", "completed_at"}


@pytest.mark.parametrize("role", ["member", "developer"])
def test_members_and_developers_list_their_own_jobs_only(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    request: pytest.FixtureRequest,
    role: str,
) -> None:
    caller: Caller = request.getfixturevalue(role)
    own = job_in(runtime, caller, BatchJobStatus.CANCELED)
    job_in(runtime, admin, BatchJobStatus.CANCELED)
    job_in(runtime, admin, BatchJobStatus.FAILED)

    body = listed(client, caller)
    named = listed(client, caller, f"?created_by={caller.user.id}")

    assert ids(body) == [own.id]
    assert body["count"] == 1
    assert body["status_counts"] == {**EVERY, "canceled": 1}
    assert ids(named) == [own.id]


def test_a_member_asking_for_another_user_s_jobs_is_refused_with_403(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    job_in(runtime, admin)

    response = client.get(
        f"/admin/jobstream/jobs?created_by={admin.user.id}", headers=member.headers
    )

    message = refused(response, 403, "not_allowed")
    assert message == "Only an admin may list the batch jobs of another user"


def test_an_admin_lists_one_creator_s_jobs(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    member: Caller,
    other_member: Caller,
) -> None:
    theirs = job_in(runtime, member)
    job_in(runtime, other_member)
    job_in(runtime, admin)

    body = listed(client, admin, f"?created_by={member.user.id}")

    assert ids(body) == [theirs.id]
    assert body["status_counts"] == {**EVERY, "created": 1}


def test_status_filters_the_page_while_the_counts_keep_every_status(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    failed = job_in(runtime, admin, BatchJobStatus.FAILED)
    canceled = job_in(runtime, admin, BatchJobStatus.CANCELED)
    job_in(runtime, admin, BatchJobStatus.COMPLETED)
    pre_processed = job_in(runtime, admin, BatchJobStatus.PRE_PROCESSED)
    confirmed = job_in(runtime, admin, BatchJobStatus.CONFIRMED)

    comma = listed(client, admin, "?status=failed,canceled")
    repeated = listed(client, admin, "?status=failed&status=canceled")
    bracketed = listed(client, admin, "?status[]=confirmed&status[]=pre_processed")

    assert ids(comma) == [canceled.id, failed.id]
    assert comma["count"] == 2
    assert ids(repeated) == ids(comma)
    assert ids(bracketed) == [confirmed.id, pre_processed.id]
    counts = {
        **EVERY, "failed": 1, "canceled": 1, "completed": 1,
        "pre_processed": 1, "confirmed": 1,
    }  # fmt: skip
    assert comma["status_counts"] == counts
    assert bracketed["status_counts"] == counts


def test_type_and_id_prefix_filter_the_page_and_the_counts(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    export = job_in(runtime, member, BatchJobStatus.FAILED)
    imported = job_in(runtime, admin, batch_type="product-import")

    by_type = listed(client, admin, "?type=product-import")
    both_types = listed(client, admin, "?type=product-import,product-export")
    by_prefix = listed(client, admin, f"?q={export.id[:-3]}")

    assert ids(by_type) == [imported.id]
    assert by_type["status_counts"] == {**EVERY, "created": 1}
    assert ids(both_types) == [imported.id, export.id]
    assert ids(by_prefix) == [export.id]
    assert by_prefix["status_counts"] == {**EVERY, "failed": 1}


def test_created_and_updated_dates_bound_the_list(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    first = job_in(runtime, admin)
    second = job_in(runtime, admin)
    third = job_in(runtime, admin)

    def at(moment: datetime) -> str:
        return quote(moment.isoformat())  # microseconds, as the view stores them

    after = listed(client, admin, f"?created_at[gt]={at(second.created_at)}")
    up_to = listed(client, admin, f"?created_at[lte]={at(second.created_at)}")
    between = listed(
        client,
        admin,
        f"?created_at[gte]={at(second.created_at)}"
        f"&created_at[lt]={at(third.created_at)}",
    )
    updated = listed(client, admin, f"?updated_at[gt]={at(second.updated_at)}")

    assert ids(after) == [third.id]
    assert after["status_counts"] == {**EVERY, "created": 1}
    assert ids(up_to) == [second.id, first.id]
    assert ids(between) == [second.id]
    assert ids(updated) == [third.id]


def test_pages_follow_the_order_asked_for(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    jobs = [job_in(runtime, admin) for _ in range(5)]
    oldest_first = [job.id for job in jobs]
    # The oldest job changes last: it is the newest by updated_at.
    runtime.settle(runtime.app.cancel_batch_job(jobs[0].id, admin.user.id)[1])

    first_page = listed(client, admin, "?limit=2")
    second_page = listed(client, admin, "?limit=2&offset=2")
    ascending = listed(client, admin, "?order=created_at&limit=3&offset=1")
    by_update = listed(client, admin, "?order=-updated_at&limit=1")

    assert ids(first_page) == oldest_first[::-1][:2]
    assert ids(second_page) == oldest_first[::-1][2:4]
    assert (second_page["count"], second_page["limit"], second_page["offset"]) == (
        5, 2, 2,
    )  # fmt: skip
    assert ids(ascending) == oldest_first[1:4]
    assert ids(by_update) == [jobs[0].id]
    assert first_page["status_counts"] == {**EVERY, "created": 4, "canceled": 1}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "?status=running",
            f"status running is not one of: {STATUSES}",
        ),
        ("?limit=101", "limit must not be greater than 100"),
        ("?limit=-1", "limit must not be less than 0"),
        ("?offset=ten", "offset must be a whole number"),
        ("?created_at[gte]=yesterday", "created_at[gte] must be an ISO 8601 date"),
        (
            "?updated_at[before]=2024-01-01",
            "property updated_at[before] should not exist",
        ),
        (
            "?created_at=2024-01-01",
            "created_at must be given as created_at[gt|gte|lt|lte]=<ISO 8601 date>",
        ),
        (
            "?order=status",
            "order must be one of: created_at, -created_at, updated_at, -updated_at",
        ),
        ("?owner=me", "property owner should not exist"),
        (
            "?limit=500&status=done",
            f"status done is not one of: {STATUSES}, limit must not be greater than 100",
        ),
    ],
)
def test_bad_parameters_are_answered_400_in_medusa_s_shape(
    client: TestClient[Any], admin: Caller, query: str, message: str
) -> None:
    response = client.get(f"/admin/jobstream/jobs{query}", headers=admin.headers)

    assert refused(response, 400, "invalid_data") == message


def test_the_list_needs_a_login(client: TestClient[Any]) -> None:
    response = client.get("/admin/jobstream/jobs")

    assert response.status_code == 401


def test_medusa_s_list_still_shows_the_caller_s_jobs_only(
    client: TestClient[Any], runtime: Runtime, admin: Caller, member: Caller
) -> None:
    own = job_in(runtime, admin)
    job_in(runtime, member)

    response = client.get("/admin/batch-jobs", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert [job["id"] for job in response.json()["batch_jobs"]] == [own.id]
