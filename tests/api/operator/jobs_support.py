"""Jobs seeded in a chosen status for the operator API's tests (no worker runs them)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.runtime import Runtime
from tests.support import Caller

# The commands that take a dry-run job from created to each status (Medusa's order).
_STEPS = {
    BatchJobStatus.CREATED: (),
    BatchJobStatus.PRE_PROCESSED: ("set_pre_processing_done",),
    BatchJobStatus.CONFIRMED: ("set_pre_processing_done", "confirm"),
    BatchJobStatus.PROCESSING: ("set_pre_processing_done", "confirm", "set_processing"),
    BatchJobStatus.COMPLETED: (
        "set_pre_processing_done", "confirm", "set_processing", "complete",
    ),
    BatchJobStatus.CANCELED: ("cancel",),
    BatchJobStatus.FAILED: ("set_failed",),
}  # fmt: skip


def job_in(
    runtime: Runtime,
    owner: Caller,
    status: BatchJobStatus = BatchJobStatus.CREATED,
    batch_type: str = "product-export",
    result: dict[str, Any] | None = None,
) -> BatchJob:
    """A job of `owner`'s in `status`, saved and shown by the read model."""
    job = BatchJob.create(
        batch_type=batch_type, created_by=owner.user.id, context={},
        dry_run=True, actor=owner.user.id,
    )  # fmt: skip
    if result is not None:
        job.update(owner.user.id, result=result)
    for step in _STEPS[status]:
        getattr(job, step)(owner.user.id)
    runtime.settle(runtime.app.save(job)[-1].notification.id)
    return job


def listed(client: TestClient[Any], caller: Caller, query: str = "") -> dict[str, Any]:
    response = client.get(f"/admin/jobstream/jobs{query}", headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [job["id"] for job in body["jobs"]]


def refused(response: Any, status: int, error_type: str) -> str:
    """The Medusa error body's message, once its status and type are as expected."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "message"}
    assert body["type"] == error_type
    message: str = body["message"]
    return message
