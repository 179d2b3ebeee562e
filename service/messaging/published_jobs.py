"""New jobs the relay of this process published, kept for the worker beside it.

In `serve` with NATS the relay and a worker share one process: the relay has just
read a job's batch.created event from the store when the worker is handed the same
event back by JetStream, and would read the job again. The relay leaves the event
here; the worker's delivery takes it and starts from that copy. Only events read
from this process's own store go in, and a delivery takes one only by its job id
and store position, so a copy is never more than a read of this store could give:
the job as created, which the engine treats as possibly stale (its first save
conflicts if the job moved on, and the step is decided again on the job as
stored). A worker in another process finds nothing here and reads, as before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from eventsourcing.application import project_aggregate

if TYPE_CHECKING:
    from domain.batch_jobs import BatchJob

# Taken within milliseconds while the worker keeps up. A backlog in the stream (every
# slot busy) leaves entries behind: past this many the oldest go, and their
# deliveries read the job from the store.
KEPT = 4096


class PublishedJobs:
    """batch.created events by store position, each taken once."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._events: dict[int, BatchJob.Created] = {}
        self._lock = threading.Lock()  # the relay and the engines' fetches

    def __len__(self) -> int:
        return len(self._events)

    def published(self, position: int, event: BatchJob.Created) -> None:
        """The relay is publishing `event`, stored at `position`."""
        with self._lock:
            if len(self._events) >= self._kept:
                del self._events[next(iter(self._events))]  # the oldest
            self._events[position] = event

    def take(self, position: int, job_id: str) -> BatchJob | None:
        """The job as the event at `position` created it, if kept here and it is `job_id`'s."""
        with self._lock:
            event = self._events.get(position)
            if event is None or event.originator_id != job_id:
                return None
            del self._events[position]
        return project_aggregate(None, [event])
