"""Typed Medusa responses for batch jobs and users (fields from the read model's document)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.users import User
from projections.batch_jobs.document import ALL_FIELDS, batch_job_fields, iso
from service.http.schemas import BatchJobResponseItem, UserResponse


def render_batch_job(
    job: Any, fields: Iterable[str] = ALL_FIELDS, user: User | None = None
) -> BatchJobResponseItem:
    """`job` is a BatchJob aggregate or a view row: they share attribute names."""
    values = batch_job_fields(job, fields)
    if user is not None:
        values["created_by_user"] = render_user(user)
    return BatchJobResponseItem(**values)


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
