"""Wire shapes of the admin API: Medusa's field names, UNSET fields left out."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

JsonObject = dict[str, Any]
Timestamp = str  # ISO 8601, UTC, milliseconds, "Z": as Medusa's JSON dates


class UserResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    role: str
    api_token: str | None
    metadata: JsonObject | None
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None = None


class BatchJobResponseItem(msgspec.Struct, frozen=True, kw_only=True):
    """A batch job; a field not selected (list `fields=`) is absent, not null."""

    id: str
    type: str | UnsetType = UNSET
    created_by: str | UnsetType | None = UNSET
    created_by_user: UserResponse | UnsetType = UNSET
    context: JsonObject | UnsetType | None = UNSET
    result: JsonObject | UnsetType | None = UNSET
    dry_run: bool | UnsetType = UNSET
    created_at: Timestamp | UnsetType = UNSET
    updated_at: Timestamp | UnsetType = UNSET
    deleted_at: Timestamp | UnsetType | None = UNSET
    pre_processed_at: Timestamp | UnsetType | None = UNSET
    confirmed_at: Timestamp | UnsetType | None = UNSET
    processing_at: Timestamp | UnsetType | None = UNSET
    completed_at: Timestamp | UnsetType | None = UNSET
    canceled_at: Timestamp | UnsetType | None = UNSET
    failed_at: Timestamp | UnsetType | None = UNSET
    status: str
    # Jobstream's extension (docs/api.md): attempts per step and the current lease.
    jobstream: JsonObject | UnsetType = UNSET


class BatchJobResponse(msgspec.Struct, frozen=True):
    batch_job: BatchJobResponseItem


class BatchJobListResponse(msgspec.Struct, frozen=True):
    batch_jobs: list[BatchJobResponseItem]
    count: int
    offset: int
    limit: int


class UserEnvelope(msgspec.Struct, frozen=True):
    user: UserResponse


class AccessTokenResponse(msgspec.Struct, frozen=True):
    access_token: str


class ErrorResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Medusa's error body; `code` appears only for the types that carry one."""

    type: str | UnsetType = UNSET
    message: str
    code: str | UnsetType = UNSET


class HealthResponse(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str]


class HealthDetailsResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Checks, the event log's head, each reader's position and lag (0: current)."""

    status: str
    checks: dict[str, str]
    event_store_head: int | UnsetType = UNSET
    projection_position: int | UnsetType = UNSET
    projection_lag: int | UnsetType = UNSET
    catalog_position: int | UnsetType = UNSET
    catalog_lag: int | UnsetType = UNSET
    parked: dict[str, JsonObject] | UnsetType = UNSET  # per read model: count, events
    stuck: dict[str, JsonObject] | UnsetType = UNSET  # per read model: the held event
    nats: str | UnsetType = UNSET
    relay_position: int | UnsetType = UNSET
    relay_lag: int | UnsetType = UNSET


# Request bodies (service.http.medusa_body): checked by service.http.requests, so
# that messages match Medusa's class-validator output, then decoded into these.
class CreateBatchJobRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """AdminPostBatchesReq: the strategy's `type`, its `context`; `dry_run` waits."""

    type: str
    context: JsonObject
    dry_run: bool | None = False


class CredentialsRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """AdminPostAuthReq."""

    email: str
    password: str
