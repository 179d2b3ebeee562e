"""Batch jobs and users as Medusa's JSON: ISO dates with milliseconds, derived status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from domain.batch_jobs import derive_status
from domain.users import User
from projections.batch_jobs.row import TIME_COLUMNS
from service.http.schemas import BatchJobResponseItem, UserResponse

ALL_FIELDS = (
    "id", "type", "created_by", "context", "result", "dry_run", "created_at",
    "updated_at", "deleted_at", "pre_processed_at", "confirmed_at", "processing_at",
    "completed_at", "canceled_at", "failed_at",
)  # fmt: skip
# What TypeORM hands back from an INSERT: set and generated columns only.
CREATED_FIELDS = (
    "id", "type", "created_by", "context", "dry_run", "created_at", "updated_at",
    "deleted_at",
)  # fmt: skip


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    millis = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return millis.replace("+00:00", "Z")


def render_batch_job(
    job: Any, fields: Iterable[str] = ALL_FIELDS, user: User | None = None
) -> BatchJobResponseItem:
    """`job` is a BatchJob aggregate or a view row: they share attribute names."""
    values: dict[str, Any] = {}
    for field in fields:
        value = getattr(job, field)
        values[field] = iso(value) if field in TIME_COLUMNS else value
    # Medusa derives status from the columns it loaded, selected or not.
    status = derive_status({field: getattr(job, field) for field in fields})
    if user is not None:
        values["created_by_user"] = render_user(user)
    return BatchJobResponseItem(**values, status=status.value)


def render_user(user: User) -> UserResponse:
    return UserResponse(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role.value,
        api_token=user.api_token,
        metadata=user.metadata,
        created_at=iso(user.created_on) or "",
        updated_at=iso(user.modified_on) or "",
    )
