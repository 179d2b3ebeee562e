"""The batch-jobs view in this process's memory: for fast unit tests of the projection.

It keeps the SQL views' promises: a batch of events and its tracking position are
applied together or not at all, a position at or below the recorded one is refused
(IntegrityError, nothing applied), and lists filter, order and page as the SQL does
(NULLs first when ascending, as SQLite orders them).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections import Counter
from datetime import UTC
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.popo import POPOTrackingRecorder

from projections.batch_jobs.document import document
from projections.batch_jobs.row import COLUMNS, TIME_COLUMNS, BatchJobRow, fold
from projections.batch_jobs.stats import THROUGHPUT_STAMPS
from projections.batch_jobs.view import WAITING_FOR_WORK, BatchJobsView, StatusPage
from projections.nul import without_nul
from projections.parking import ParkedEvent, Parking

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from datetime import datetime

    from eventsourcing.persistence import Tracking

    from domain.batch_jobs import BatchJob
    from projections.batch_jobs.query import BatchJobQuery, TimeFilter


class InMemoryBatchJobsView(POPOTrackingRecorder, BatchJobsView, Parking):
    placeholder = "?"
    parked_table = "parked"

    def __init__(self) -> None:
        super().__init__()
        # Its own lock and positions: rows and tracking change together under it.
        self._lock = threading.RLock()
        self._positions: dict[str, int] = {}
        self._rows: dict[str, BatchJobRow] = {}
        self._documents: dict[str, str] = {}
        self._parked: dict[int, ParkedEvent] = {}

    # -- tracking --------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        with self._lock:
            self._refuse_seen(tracking)
            self._positions[tracking.application_name] = tracking.notification_id

    def max_tracking_id(self, application_name: str) -> int | None:
        with self._lock:
            return self._positions.get(application_name)

    def _refuse_seen(self, tracking: Tracking) -> None:
        """IntegrityError if `tracking` is not past the recorded position (exactly once)."""
        recorded = self._positions.get(tracking.application_name)
        if recorded is not None and tracking.notification_id <= recorded:
            raise IntegrityError(
                f"Failed to record tracking for {tracking.application_name} "
                f"{tracking.notification_id}: at {recorded} already"
            )

    # -- writes ----------------------------------------------------------------------

    def apply_events(
        self, events: Sequence[BatchJob.Event], tracking: Tracking, curs: Any = None
    ) -> None:
        with self._lock:
            self._refuse_seen(tracking)
            ids = {event.originator_id for event in events}
            # Folded on copies: an event that fails leaves the view as it was.
            rows = {i: copy.deepcopy(self._rows[i]) for i in ids if i in self._rows}
            changed = fold(rows, events)
            for job_id in changed:
                stored = without_nul(rows[job_id])
                self._rows[job_id] = stored
                self._documents[job_id] = document(stored)
            self.insert_tracking(tracking)

    def _transaction(self, *, commit: bool) -> Any:
        raise NotImplementedError("the in-memory view has no transactions")

    def track(self, curs: Any, tracking: Tracking) -> None:
        self.insert_tracking(tracking)

    def park(self, event: ParkedEvent, tracking: Tracking) -> None:
        with self._lock:
            self._refuse_seen(tracking)
            self._parked[event.position] = event
            self.insert_tracking(tracking)

    def parked_events(self, limit: int | None = None) -> list[ParkedEvent]:
        with self._lock:
            events = [self._parked[p] for p in sorted(self._parked)]
        return events if limit is None else events[:limit]

    def count_parked(self) -> int:
        return len(self._parked)

    def clear_parked(self, up_to: int, keep: Collection[int] = ()) -> None:
        with self._lock:
            for position in [p for p in self._parked if p <= up_to and p not in keep]:
                del self._parked[position]

    def rebuild_if_outdated(self) -> bool:
        return False  # its columns are always this code's

    # -- reads -----------------------------------------------------------------------

    def get_batch_job(self, job_id: str) -> BatchJobRow | None:
        with self._lock:
            row = self._rows.get(job_id)
            return None if row is None else copy.deepcopy(row)

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        with self._lock:
            row = self._rows.get(job_id)
            return None if row is None else (row.created_by, self._documents[job_id])

    def list_batch_jobs(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        rows, count = self._page(query)
        return [copy.deepcopy(row) for row in rows], count

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        rows, count = self._page(query)
        return [self._documents[row.id] for row in rows], count

    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        every_status = dataclasses.replace(query, statuses=None, limit=None, offset=0)
        with self._lock:
            matching, _ = self._page(every_status)
            counts = Counter(row.status.value for row in matching)
            rows, _ = self._page(query)
            return StatusPage.of([self._documents[row.id] for row in rows], counts)

    def documents_by_id(self) -> dict[str, tuple[int, str]]:
        """Every row's version and stored document (as the SQL views give `verify`)."""
        with self._lock:
            return {i: (r.version, self._documents[i]) for i, r in self._rows.items()}

    def counts_by_type_and_status(self) -> list[tuple[str, str, int]]:
        with self._lock:
            counts = Counter(
                (row.type, row.status.value) for row in self._rows.values()
            )
        return [(batch_type, status, n) for (batch_type, status), n in counts.items()]

    def changes_per_minute(self, since: datetime) -> list[tuple[str, str, int]]:
        counts: Counter[tuple[str, str]] = Counter()
        with self._lock:
            for row in self._rows.values():
                for kind, column in THROUGHPUT_STAMPS:
                    moment = getattr(row, column)
                    if moment is not None and moment >= since:
                        minute = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
                        counts[minute, kind] += 1
        return [(minute, kind, n) for (minute, kind), n in counts.items()]

    def expired_leases(self, before: datetime, limit: int) -> list[str]:
        with self._lock:
            expired = [
                row
                for row in self._rows.values()
                if row.lease_expires_at is not None
                and row.lease_expires_at < before
                and row.completed_at is None
                and row.canceled_at is None
                and row.failed_at is None
            ]
        expired.sort(key=lambda row: (row.lease_expires_at, row.id))
        return [row.id for row in expired[:limit]]

    def waiting_for_work(self, before: datetime, limit: int) -> list[str]:
        with self._lock:
            waiting = [
                row
                for row in self._rows.values()
                if row.status in WAITING_FOR_WORK
                and row.lease_expires_at is None
                and row.updated_at < before
            ]
        waiting.sort(key=lambda row: (row.updated_at, row.id))
        return [row.id for row in waiting[:limit]]

    def unfinished_contexts(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                row.id: copy.deepcopy(row.context)
                for row in self._rows.values()
                if row.completed_at is None
                and row.canceled_at is None
                and row.failed_at is None
            }

    def _page(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        with self._lock:
            matching = [row for row in self._rows.values() if _matches(row, query)]
        # Two stable sorts: the id breaks ties in the same direction, as in the SQL.
        matching.sort(key=lambda row: row.id, reverse=query.descending)
        matching.sort(key=lambda row: _sort_key(row, query.order_by),
                      reverse=query.descending)  # fmt: skip
        end = None if query.limit is None else query.offset + query.limit
        return matching[query.offset : end], len(matching)


def _matches(row: BatchJobRow, query: BatchJobQuery) -> bool:
    if query.created_by is not None and row.created_by != query.created_by:
        return False
    if query.ids is not None and row.id not in query.ids:
        return False
    if query.types is not None and row.type not in query.types:
        return False
    if query.statuses is not None and row.status not in query.statuses:
        return False
    if query.id_prefix is not None and not row.id.startswith(query.id_prefix):
        return False
    return all(_time_matches(row, f) for f in query.time_filters)


def _time_matches(row: BatchJobRow, time_filter: TimeFilter) -> bool:
    if time_filter.column not in TIME_COLUMNS:
        raise ValueError(f"not a time column: {time_filter.column}")
    value = getattr(row, time_filter.column)
    wanted = time_filter.value
    if time_filter.operator == "is_null" or wanted is None:
        return value is None
    if value is None:
        return False  # SQL: a comparison with NULL is never true
    comparisons = {
        "lt": value < wanted, "gt": value > wanted, "lte": value <= wanted,
        "gte": value >= wanted, "eq": value == wanted,
    }  # fmt: skip
    return bool(comparisons[time_filter.operator])


def _sort_key(row: BatchJobRow, column: str) -> tuple[bool, Any]:
    if column not in COLUMNS:
        raise ValueError(f"not a column: {column}")
    value = getattr(row, column)
    return (value is not None, value if value is not None else 0)
