"""GET /admin/jobstream/jobs/{id}/files/{kind}: a job's export or error report, by role."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.batch_jobs import BatchJobStatus
from service.runtime import Runtime
from tests.api.operator.jobs_support import job_in, refused
from tests.support import Caller

EXPORT = b"Product Id,Product Handle\nprod_1,shirt\n"
REPORT = b"line,error\n7,Product handle is missing\n"


def with_files(runtime: Runtime, owner: Caller) -> tuple[str, dict[str, str]]:
    """A completed job whose result names an export and an error report, both stored."""
    keys = {
        "result": f"exports/products/product-export-1-{owner.user.id}.csv",
        "error_report": f"imports/products/errors/{owner.user.id}-errors.csv",
    }
    runtime.files.put(keys["result"], [EXPORT])
    runtime.files.put(keys["error_report"], [REPORT])
    job = job_in(
        runtime,
        owner,
        BatchJobStatus.COMPLETED,
        result={
            "file_key": keys["result"],
            "file_size": len(EXPORT),
            "error_report_file_key": keys["error_report"],
        },
    )
    return job.id, keys


@pytest.mark.parametrize("who", ["member", "admin"])
def test_the_creator_and_an_admin_download_the_job_s_files(
    client: TestClient[Any],
    runtime: Runtime,
    member: Caller,
    request: pytest.FixtureRequest,
    who: str,
) -> None:
    job_id, keys = with_files(runtime, member)
    caller: Caller = request.getfixturevalue(who)

    export = client.get(
        f"/admin/jobstream/jobs/{job_id}/files/result", headers=caller.headers
    )
    report = client.get(
        f"/admin/jobstream/jobs/{job_id}/files/error_report", headers=caller.headers
    )

    assert export.status_code == 200, export.text
    assert export.content == EXPORT
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-length"] == str(len(EXPORT))
    name = keys["result"].rsplit("/", 1)[1]
    assert export.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert export.headers["x-content-type-options"] == "nosniff"
    assert report.status_code == 200, report.text
    assert report.content == REPORT


def test_another_member_is_refused_as_medusa_refuses_another_user_s_job(
    client: TestClient[Any],
    runtime: Runtime,
    member: Caller,
    other_member: Caller,
) -> None:
    job_id, _ = with_files(runtime, member)

    response = client.get(
        f"/admin/jobstream/jobs/{job_id}/files/result", headers=other_member.headers
    )

    message = refused(response, 400, "not_allowed")
    assert message == (
        "Cannot access a batch job that does not belong to the logged in user"
    )


def test_a_job_without_the_file_is_a_404(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = job_in(runtime, admin, BatchJobStatus.COMPLETED)
    removed = job_in(
        runtime, admin, BatchJobStatus.COMPLETED,
        result={"file_key": "exports/products/removed.csv"},
    )  # fmt: skip

    none = client.get(
        f"/admin/jobstream/jobs/{job.id}/files/error_report", headers=admin.headers
    )
    gone = client.get(
        f"/admin/jobstream/jobs/{removed.id}/files/result", headers=admin.headers
    )

    assert refused(none, 404, "not_found") == (
        f"Batch job {job.id} has no error_report file"
    )
    assert refused(gone, 404, "not_found") == (
        "File with key exports/products/removed.csv was not found"
    )


def test_an_unknown_kind_of_file_is_a_400(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id, _ = with_files(runtime, admin)

    response = client.get(
        f"/admin/jobstream/jobs/{job_id}/files/source", headers=admin.headers
    )

    message = refused(response, 400, "invalid_data")
    assert message == "kind must be one of: result, error_report"
