"""Work read from the event store: embedded `serve` runs jobs with no broker.

batch.created asks for pre-processing, batch.confirmed for processing; a
batch.canceled reaches running strategies through `on_cancel`. The engine's steps
are idempotent, so the position is recorded as a low-water mark: after a restart,
events whose work had not finished are handled again, and those that had are no-ops.
Work given back with a delay (a retry, a type at its limit) waits here, in flight.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob
from service.engine.delayed import DelayedQueue
from service.engine.work import Step

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from service.application import Jobstream
    from service.engine.clock import Clock

log = structlog.get_logger("processor")

STEPS: dict[type[Any], Step] = {
    BatchJob.Created: Step.PRE_PROCESS,
    BatchJob.Confirmed: Step.PROCESS,
}
TOPICS = (*(get_topic(cls) for cls in STEPS), get_topic(BatchJob.Canceled))
RECORD_INTERVAL = 0.5  # seconds between records of the position
PAGE = 500  # notifications read at once


@dataclass
class StoredWork:
    job_id: str
    step: Step
    position: int
    source: EventStoreWorkSource
    attempt: int = 1
    trace_parent: str | None = None  # batch.created's: the job's trace
    created: BatchJob | None = None  # the job as batch.created made it

    def ack(self) -> None:
        self.source.done(self.position)

    def nak(self, delay: float) -> None:
        self.source.later(self, delay)

    def term(self) -> None:
        self.source.done(self.position)

    def in_progress(self) -> None:
        pass  # nothing redelivers it meanwhile: it is in flight until settled


class EventStoreWorkSource:
    def __init__(
        self,
        app: Jobstream,
        position: TrackingRecorder,
        clock: Clock,
        on_cancel: Callable[[str], None],
    ) -> None:
        self._app = app
        self._position = position
        self._clock = clock
        self._on_cancel = on_cancel
        self._changed = threading.Condition()
        self._woken = False
        self._read = position.max_tracking_id(app.name) or 0
        self._recorded = self._read
        self._recorded_at = 0.0
        self._inflight: set[int] = set()
        self._ready: deque[StoredWork] = deque()
        self._delayed: DelayedQueue[StoredWork] = DelayedQueue()

    def fetch(self, most: int, timeout: float) -> list[StoredWork]:
        deadline = time.monotonic() + timeout
        woken = False
        while True:
            with self._changed:
                self._ready.extend(self._delayed.pop_due(self._clock.monotonic(), most))
                need_read = len(self._ready) < most
            if need_read:
                self._read_page()
            with self._changed:
                if self._ready:
                    count = min(most, len(self._ready))
                    return [self._ready.popleft() for _ in range(count)]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or woken:
                    # Woken and nothing new: the caller looks around (it may be
                    # stopping) before it asks again.
                    return []
                next_due = self._delayed.next_due()
                if next_due is not None:
                    remaining = min(remaining, next_due - self._clock.monotonic())
                if not self._woken:
                    self._changed.wait(max(0.0, remaining))
                woken, self._woken = self._woken, False

    def wake(self) -> None:
        with self._changed:
            self._woken = True
            self._changed.notify_all()

    def wake_for(self, topics: Collection[str]) -> None:
        if not set(TOPICS).isdisjoint(topics):
            self.wake()

    def done(self, position: int) -> None:
        with self._changed:
            self._inflight.discard(position)
        self._record_low_water()

    def later(self, work: StoredWork, delay: float) -> None:
        """In flight until then: a crash meanwhile handles its event again."""
        again = StoredWork(
            work.job_id,
            work.step,
            work.position,
            self,
            work.attempt + 1,
            work.trace_parent,
        )  # without the copy: a redelivery reads the job as stored
        with self._changed:
            self._delayed.push(again, self._clock.monotonic() + delay)
            self._changed.notify_all()

    def close(self) -> None:
        # Delayed work is dropped; its events stay above the low-water mark.
        with self._changed:
            self._delayed.drain()
            self._ready.clear()
        self._record_low_water(flush=True)

    def _read_page(self) -> None:
        page = self._app.recorder.select_notifications(
            start=self._read, limit=PAGE, topics=TOPICS, inclusive_of_start=False
        )
        for notification in page:
            try:
                event = self._app.mapper.to_domain_event(notification)
            except Exception as error:  # noqa: BLE001 - an unreadable event is no work
                log.warning(
                    "processor.undecodable_event",
                    position=notification.id,
                    error=repr(error),
                )
                event = None
            step = STEPS.get(type(event))
            with self._changed:
                self._read = notification.id
                if step is not None:
                    self._inflight.add(notification.id)
                    job_id = str(notification.originator_id)
                    work = StoredWork(job_id, step, notification.id, self)
                    if isinstance(event, BatchJob.Created):
                        work.trace_parent = event.trace_parent
                        work.created = project_aggregate(None, [event])
                    self._ready.append(work)
            if isinstance(event, BatchJob.Canceled):
                self._on_cancel(event.originator_id)  # for a job running here
        if page:
            self._record_low_water()

    def _record_low_water(self, *, flush: bool = False) -> None:
        # Recorded at most every RECORD_INTERVAL: each record is a commit, and a crash
        # only means handling a few more (idempotent) events again.
        with self._changed:
            low = min(self._inflight) - 1 if self._inflight else self._read
            now = time.monotonic()
            due = flush or now - self._recorded_at >= RECORD_INTERVAL
            if low <= self._recorded or not due:
                return
            self._recorded, self._recorded_at = low, now
        # IntegrityError: another process sharing the database recorded a later position.
        with contextlib.suppress(IntegrityError):
            self._position.insert_tracking(Tracking(self._app.name, low))
