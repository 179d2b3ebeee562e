"""The stored document is byte for byte what the API renders for the same job."""

from __future__ import annotations

import msgspec

from domain.batch_jobs import BatchJob
from projections.batch_jobs.document import document
from projections.batch_jobs.row import BatchJobRow, fold
from service.http.rendering import render_batch_job


def test_the_document_equals_the_rendered_response() -> None:
    job = BatchJob.create(
        batch_type="t", created_by="usr_1", context={"a": [1, "é"]}, dry_run=True,
        actor="usr_1",
    )  # fmt: skip
    job.update("w", result={"count": 3, "nested": {"b": None}})
    job.set_pre_processing_done("w")
    job.cancel("usr_1")
    rows: dict[str, BatchJobRow] = {}
    fold(rows, job.collect_events())  # type: ignore[arg-type]

    stored = document(rows[job.id])

    assert stored == msgspec.json.encode(render_batch_job(rows[job.id])).decode()
    assert stored == msgspec.json.encode(render_batch_job(job)).decode()
    decoded = msgspec.json.decode(stored)
    assert decoded["status"] == "canceled"
    assert decoded["created_at"].endswith("Z") and len(decoded["created_at"]) == 24
    assert list(decoded) == [
        "id", "type", "created_by", "context", "result", "dry_run", "created_at",
        "updated_at", "deleted_at", "pre_processed_at", "confirmed_at",
        "processing_at", "completed_at", "canceled_at", "failed_at", "status",
    ]  # fmt: skip
