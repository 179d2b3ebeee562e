"""Wire shapes of the operator API's job endpoints (docs/operator-api.md)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from service.http.schemas import BatchJobResponseItem, Timestamp

StatusCounts = dict[str, int]  # every status's key, zeros included


class JobListResponse(msgspec.Struct, frozen=True, kw_only=True):
    jobs: list[BatchJobResponseItem]
    count: int
    limit: int
    offset: int
    status_counts: StatusCounts


class LeaseResponse(msgspec.Struct, frozen=True, kw_only=True):
    holder: str
    expires_at: Timestamp
    attempt: int
    step: str


class AttemptResponse(msgspec.Struct, frozen=True, kw_only=True):
    step: str
    attempt: int
    error: str | None
    at: Timestamp
    holder: str  # the worker that ran it


class JobDetailResponse(msgspec.Struct, frozen=True, kw_only=True):
    batch_job: BatchJobResponseItem
    lease: LeaseResponse | None
    attempts: list[AttemptResponse]
    retry_of: str | None  # the failed job this one runs again (docs/operator-api.md)
    retries: list[str]  # the jobs that ran this one's work again, oldest first


class JobStateResponse(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    batch_job: dict[str, Any]


MAX_CANCEL_IDS = 500


class CancelJobsRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """The jobs to cancel: 1 to MAX_CANCEL_IDS batch job ids."""

    ids: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_CANCEL_IDS)]


class CancelJobsError(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    message: str


class CancelJobsResponse(msgspec.Struct, frozen=True, kw_only=True):
    canceled: list[str]
    errors: list[CancelJobsError]
