"""A batch job as the read model stores it, and the fold of events into it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, cast

from domain.batch_jobs import BatchJob, BatchJobStatus, derive_status

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime


@dataclass
class BatchJobRow:
    """Medusa's batch_job columns; `status` is derived, never stored alone."""

    id: str
    type: str
    created_by: str | None
    context: dict[str, Any]
    result: dict[str, Any] | None
    dry_run: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    pre_processed_at: datetime | None = None
    confirmed_at: datetime | None = None
    processing_at: datetime | None = None
    completed_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    version: int = field(default=1)
    # Jobstream's extension (domain.leases): runs per step and the current lease.
    attempts: dict[str, int] = field(default_factory=dict)
    lease_holder: str | None = None
    lease_step: str | None = None
    lease_acquired_at: datetime | None = None
    lease_expires_at: datetime | None = None

    @property
    def status(self) -> BatchJobStatus:
        return derive_status(vars(self))

    @classmethod
    def created(cls, event: BatchJob.Created) -> BatchJobRow:
        return cls(
            id=event.originator_id,
            type=event.type,
            created_by=event.created_by,
            context=dict(event.context),
            result=None,
            dry_run=event.dry_run,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
        )


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(BatchJobRow))
TIME_COLUMNS = frozenset(name for name in COLUMNS if name.endswith("_at"))
JSON_COLUMNS = frozenset({"context", "result", "attempts"})


def fold(rows: dict[str, BatchJobRow], events: Iterable[BatchJob.Event]) -> set[str]:
    """Apply events to the rows in place; return the ids of the rows changed.

    The row has the aggregate's attribute names, so each event's own `apply`
    evolves it: the read model and the aggregate share one definition of each event.
    """
    changed: set[str] = set()
    for event in events:
        if isinstance(event, BatchJob.Created):
            if event.originator_id in rows:
                continue  # already folded
            rows[event.originator_id] = BatchJobRow.created(event)
        else:
            row = rows.get(event.originator_id)
            if row is None or event.originator_version <= row.version:
                continue  # an event already folded (or of a job not seen): skip it
            if not isinstance(event, BatchJob.Retried):
                # A retry links another job: Medusa's document (and updated_at) stays.
                event.apply(cast("BatchJob", row))
                row.updated_at = event.timestamp
            row.version = event.originator_version
        changed.add(event.originator_id)
    return changed
