"""What the live feed endpoint uses: cursors over the event store, and wake-ups."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, cast

from domain.users import UserRole
from service.feed.cursor import FEED_TOPICS, FeedCursor
from service.feed.wakeups import Wakeups

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import Notification, StoredEvent

    from domain.batch_jobs import BatchJob
    from domain.users import User
    from service.application import Jobstream
    from service.feed.wakeups import Waiter

KEEPALIVE_SECONDS = 15.0


class FeedService(ABC):  # an ABC: see BatchJobsService
    keepalive_seconds: float = KEEPALIVE_SECONDS

    @abstractmethod
    def open(self, caller: User, after: int | None, job_id: str | None) -> FeedCursor:
        """A cursor after `after` (None: the log's head) over what `caller` may see.

        Blocking. With `job_id`, that job only: Medusa's not-found, or its
        not_allowed for another user's job (an admin sees every user's).
        """

    @abstractmethod
    def subscribe(self) -> Waiter:
        """A wake-up for a new reader, on the event loop."""

    @abstractmethod
    def unsubscribe(self, waiter: Waiter) -> None: ...

    @property
    @abstractmethod
    def closed(self) -> bool:
        """The server is stopping: readers end their streams."""

    @abstractmethod
    def close(self) -> None: ...


class StoreSource:
    """The application's event store, as a feed cursor reads it."""

    def __init__(self, app: Jobstream) -> None:
        self._app = app

    def notifications(self, after: int, limit: int) -> Sequence[Notification]:
        return self._app.recorder.select_notifications(
            start=after, limit=limit, topics=FEED_TOPICS, inclusive_of_start=False
        )

    def event(self, notification: StoredEvent) -> BatchJob.Event:
        return cast("BatchJob.Event", self._app.mapper.to_domain_event(notification))

    def events_until(self, job_id: str, version: int) -> list[BatchJob.Event]:
        stored = self._app.recorder.select_events(job_id, lte=version)
        return [self.event(record) for record in stored]


class EventFeed(FeedService):
    """Over the process's application; `head` is the log's head as reads know it."""

    def __init__(self, app: Jobstream, head: Callable[[], int]) -> None:
        self._app = app
        self._source = StoreSource(app)
        self._head = head
        self._wakeups = Wakeups(FEED_TOPICS, head)

    @property
    def wakeups(self) -> Wakeups:
        return self._wakeups

    def open(self, caller: User, after: int | None, job_id: str | None) -> FeedCursor:
        sees_all = caller.role is UserRole.ADMIN
        if job_id is not None:
            job = self._app.get_batch_job(job_id)
            if not sees_all:
                job.ensure_accessible_by(caller.id)
        return FeedCursor(
            self._source,
            after=self._head() if after is None else after,
            viewer=None if sees_all else caller.id,
            job_id=job_id,
        )

    def subscribe(self) -> Waiter:
        return self._wakeups.add()

    def unsubscribe(self, waiter: Waiter) -> None:
        self._wakeups.discard(waiter)

    @property
    def closed(self) -> bool:
        return self._wakeups.closed

    def close(self) -> None:
        self._wakeups.close()
