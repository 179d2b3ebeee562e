"""A reader's place in the feed: pages of batch-job events, each with its job's state.

The event store's notification log is read in order after a position, a page at a
time, for the topics the feed shows; each event is folded into its job's state by
the read model's own fold (projections.batch_jobs.row), so a message's status and
result are those a GET would have shown after that event. A job first met mid-way
is folded from its stored events up to that one. States are kept for the jobs seen
last (at most `cache_size`), so a reader's memory stays bounded however long it
reads.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob
from projections.batch_jobs.document import iso
from projections.batch_jobs.row import BatchJobRow, fold

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import Notification

# The changes a page or a script follows; lease bookkeeping is left out.
FEED_EVENTS: tuple[type[BatchJob.Event], ...] = (
    BatchJob.Created,
    BatchJob.Updated,
    BatchJob.PreProcessed,
    BatchJob.Confirmed,
    BatchJob.ProcessingStarted,
    BatchJob.Completed,
    BatchJob.Canceled,
    BatchJob.Failed,
    BatchJob.Retried,
)
FEED_TOPICS = tuple(get_topic(cls) for cls in FEED_EVENTS)
PAGE_SIZE = 200
CACHE_SIZE = 256  # job states per reader
OWNERS_SIZE = 4096  # job creators per reader (a few ids each)
V = TypeVar("V")


class JobChange(msgspec.Struct, frozen=True, kw_only=True):
    """One feed message's data: the event, and its job as it stood after it."""

    id: str
    type: str
    status: str
    version: int
    event: str
    created_by: str | None
    time: str | None
    result: dict[str, Any] | None


class FeedItem(msgspec.Struct, frozen=True):
    position: int  # the event store's notification id: the message's SSE id
    change: JobChange


class FeedSource(Protocol):
    """The event store as the feed reads it (blocking calls)."""

    def notifications(self, after: int, limit: int) -> Sequence[Notification]:
        """The next notifications of FEED_TOPICS after position `after`, in order."""
        ...

    def event(self, notification: Notification) -> BatchJob.Event: ...

    def events_until(self, job_id: str, version: int) -> list[BatchJob.Event]:
        """The job's stored events up to `version`, oldest first."""
        ...


class FeedCursor:
    """Where one reader is; `next_page` reads on from there (in a worker thread).

    `viewer`: the user whose jobs are shown; None shows every user's (an admin).
    `job_id`: only that job's events.
    """

    def __init__(  # noqa: PLR0913 - all by name
        self,
        source: FeedSource,
        *,
        after: int,
        viewer: str | None,
        job_id: str | None = None,
        page_size: int = PAGE_SIZE,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._source = source
        self.position = after
        self._viewer = viewer
        self._job_id = job_id
        self._page_size = page_size
        self._cache_size = cache_size
        # The state of the viewer's jobs seen last, after the last event seen, and
        # who created each job seen (for a viewer who sees only their own).
        self._states: OrderedDict[str, BatchJobRow] = OrderedDict()
        self._owners: OrderedDict[str, str | None] = OrderedDict()

    def next_page(self) -> tuple[list[FeedItem], bool]:
        """The messages of the next page, and whether more may follow at once."""
        page = self._source.notifications(self.position, self._page_size)
        items: list[FeedItem] = []
        for notification in page:
            self.position = notification.id
            job_id = str(notification.originator_id)
            if self._job_id is not None and job_id != self._job_id:
                continue
            if self._owners.get(job_id, self._viewer) != self._viewer:
                continue  # another user's job, known as such: not even decoded
            event = self._source.event(notification)
            row = self._fold(job_id, event)
            if row is not None:
                items.append(FeedItem(notification.id, change_of(row, event)))
        return items, len(page) == self._page_size

    def _fold(self, job_id: str, event: BatchJob.Event) -> BatchJobRow | None:
        """The job's state after `event`, or None if the viewer may not see it."""
        row = self._states.get(job_id)
        if row is not None:
            fold({job_id: row}, [event])
            self._states.move_to_end(job_id)
            return row
        if isinstance(event, BatchJob.Created):
            history: list[BatchJob.Event] = [event]
        else:
            if self._viewer is not None and not self._owned(job_id):
                return None
            history = self._source.events_until(job_id, event.originator_version)
        rows: dict[str, BatchJobRow] = {}
        fold(rows, history)
        row = rows.get(job_id)
        if row is None:
            return None
        if self._viewer is not None:
            _remember(self._owners, job_id, row.created_by, OWNERS_SIZE)
            if row.created_by != self._viewer:
                return None
        _remember(self._states, job_id, row, self._cache_size)
        return row

    def _owned(self, job_id: str) -> bool:
        """Whether the viewer created the job (its first event says)."""
        if job_id not in self._owners:
            first = self._source.events_until(job_id, 1)
            owner = (
                first[0].created_by
                if first and isinstance(first[0], BatchJob.Created)
                else None
            )
            _remember(self._owners, job_id, owner, OWNERS_SIZE)
        return self._owners[job_id] == self._viewer


def _remember(cache: OrderedDict[str, V], key: str, value: V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def change_of(row: BatchJobRow, event: BatchJob.Event) -> JobChange:
    return JobChange(
        id=row.id,
        type=row.type,
        status=row.status.value,
        version=event.originator_version,
        event=event.NAME,
        created_by=row.created_by,
        time=iso(event.timestamp),
        result=row.result,
    )
