"""Routes batch-job events to the batch-jobs view, a batch at a time."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.batch_jobs import EVENT_CLASSES, BatchJob
from projections.batch_jobs.view import BatchJobsView


class BatchJobsProjection:
    # Lowercase, no underscores: it names the tracking table and the env prefix.
    name = "batchjobs"
    topics = tuple(get_topic(cls) for cls in EVENT_CLASSES)

    def __init__(self, view: BatchJobsView, upstream: str) -> None:
        self.view = view
        self.upstream = upstream  # the application name tracking positions refer to

    def __call__(self, batch: Sequence[tuple[int, object]]) -> None:
        """Fold one batch and record its last position, in one transaction."""
        job_events = [event for _, event in batch if isinstance(event, BatchJob.Event)]
        self.view.apply_events(job_events, Tracking(self.upstream, batch[-1][0]))
