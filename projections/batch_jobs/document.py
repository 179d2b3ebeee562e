"""A batch job as Medusa's JSON: ISO dates with milliseconds, status derived.

The view stores each row's document when it folds an event, so a list answers with
stored JSON instead of decoding and rendering every row on every read. The API renders
its typed responses from the same `batch_job_fields`, so the two cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from domain.batch_jobs import derive_status
from projections.batch_jobs.row import TIME_COLUMNS
from projections.stamp_text import remembered

if TYPE_CHECKING:
    from collections.abc import Iterable

# Medusa's batch_job columns, in the order its JSON lists them.
ALL_FIELDS = (
    "id", "type", "created_by", "context", "result", "dry_run", "created_at",
    "updated_at", "deleted_at", "pre_processed_at", "confirmed_at", "processing_at",
    "completed_at", "canceled_at", "failed_at",
)  # fmt: skip
_encoder = msgspec.json.Encoder()


def _millis_text(moment: datetime) -> str:
    millis = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return millis.replace("+00:00", "Z")


_stamp_text = remembered(_millis_text)


def iso(moment: datetime | None) -> str | None:
    """Medusa's stamp text: UTC, to the millisecond, with a `Z`."""
    return None if moment is None else _stamp_text(moment)


def batch_job_fields(job: Any, fields: Iterable[str] = ALL_FIELDS) -> dict[str, Any]:
    """`job` is a BatchJob aggregate or a view row: they share attribute names.

    Every field (the default) includes Jobstream's `jobstream` extension once a
    worker has taken the job; a selection of Medusa's fields never does.
    """
    fields = tuple(fields)
    values = {field: getattr(job, field) for field in fields}
    # Medusa derives status from the columns it loaded, selected or not.
    status = derive_status(values)
    for field in TIME_COLUMNS.intersection(values):
        values[field] = iso(values[field])
    values["status"] = status.value
    if fields == ALL_FIELDS and job.attempts:
        values[EXTENSION_KEY] = extension(job)
    return values


EXTENSION_KEY = "jobstream"


def extension(job: Any) -> dict[str, Any]:
    """Runs per step and the current lease (null between steps and when final)."""
    lease = None
    if job.lease_step is not None:
        lease = {
            "holder": job.lease_holder,  # null: released, waiting for its retry
            "step": job.lease_step,
            "attempt": job.attempts.get(job.lease_step, 0),
            "acquired_at": iso(job.lease_acquired_at),
            "expires_at": iso(job.lease_expires_at),
        }
    return {"attempts": dict(job.attempts), "lease": lease}


def document(job: Any) -> str:
    """Every field of the job as Medusa's JSON text."""
    return _encoder.encode(batch_job_fields(job)).decode()
