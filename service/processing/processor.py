"""The in-process processor: events from the event store, work on a thread pool.

It reacts to events read from the event store, never to calls from the HTTP layer, and
hands them to the shared JobLifecycle. Those handlers are idempotent, so the position
is recorded as a low-water mark: after a restart, events whose work had not finished
are handled again, and those that had are no-ops.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob
from service.strategies.lifecycle import JobLifecycle, RetryLater
from service.strategies.limits import TypeLimits

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("processor")

TOPICS = tuple(
    get_topic(cls) for cls in (BatchJob.Created, BatchJob.Confirmed, BatchJob.Canceled)
)
RECORD_INTERVAL = 0.5  # seconds between records of the processor's position


class BatchJobProcessor:
    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        app: Jobstream,
        registry: StrategyRegistry,
        position: TrackingRecorder,
        threads: int = 4,
        max_attempts: int = 3,
        retry_delay: float = 1.0,
        lease_seconds: float = 30.0,
        limits: TypeLimits | None = None,
    ) -> None:
        self._app = app
        self.lifecycle = JobLifecycle(
            app=app,
            registry=registry,
            max_attempts=max_attempts,
            retry_delay=retry_delay,
            lease_seconds=lease_seconds,
        )
        self._limits = limits or TypeLimits({})
        self._position = position
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="batch-job")
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._dispatched = 0
        self._recorded = position.max_tracking_id(app.name) or 0
        self._recorded_at = 0.0
        self._stopping = threading.Event()
        self._timers: set[threading.Timer] = set()

    def start_position(self) -> int | None:
        return self._position.max_tracking_id(self._app.name)

    def __call__(self, batch: Sequence[tuple[int, Any]]) -> None:
        """Dispatch a batch of events to the pool; called by the catch-up runner."""
        for notification_id, event in batch:
            if isinstance(event, BatchJob.Canceled):
                self.lifecycle.signals.cancel(event.originator_id)  # for a running job
                continue
            work = self._work_for(event)
            if work is None:
                continue
            with self._lock:
                self._inflight.add(notification_id)
            self._pool.submit(self._run, notification_id, work, event.originator_id)
        with self._lock:
            self._dispatched = max(self._dispatched, batch[-1][0])
        self._record_low_water()

    def shutdown(self) -> None:
        # Queued and waiting work is dropped; its events stay above the low-water mark
        # for next time. Running strategies are waited for.
        self._stopping.set()
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._record_low_water(flush=True)

    def _work_for(self, event: Any) -> Callable[[str], None] | None:
        if isinstance(event, BatchJob.Created):
            return self.lifecycle.pre_process
        if isinstance(event, BatchJob.Confirmed):
            return self.lifecycle.process
        return None

    def _run(
        self, notification_id: int, work: Callable[[str], None], job_id: str
    ) -> None:
        finished = True
        try:
            with structlog.contextvars.bound_contextvars(job_id=job_id):
                self._limited(work, job_id)
        except RetryLater as retry:
            finished = False  # in flight until the retry: a crash meanwhile redoes it
            self._retry_later(retry.delay, notification_id, work, job_id)
        except Exception:
            log.exception("processor.unhandled_error", job_id=job_id)
        finally:
            if finished:
                with self._lock:
                    self._inflight.discard(notification_id)
                self._record_low_water()

    def _limited(self, work: Callable[[str], None], job_id: str) -> None:
        if not self._limits.active:
            work(job_id)  # no type limited: no need to read the job
            return
        batch_type = self.lifecycle.batch_type_of(job_id)
        self._limits.acquire(batch_type)  # this pool thread waits for the type's slot
        try:
            work(job_id)
        finally:
            self._limits.release(batch_type)

    def _retry_later(
        self,
        delay: float,
        notification_id: int,
        work: Callable[[str], None],
        job_id: str,
    ) -> None:
        """Run the work again after `delay` (a retry, or another's lease lapsing).

        A timer, not a sleep: a waiting job must not hold a pool thread others need.
        """

        def resubmit() -> None:
            with self._lock:
                self._timers.discard(timer)
            if not self._stopping.is_set():
                self._pool.submit(self._run, notification_id, work, job_id)

        timer = threading.Timer(delay, resubmit)
        timer.daemon = True
        with self._lock:
            if self._stopping.is_set():
                return  # shutting down: the event stays in flight for next time
            self._timers.add(timer)
        timer.start()

    def _record_low_water(self, *, flush: bool = False) -> None:
        # Recorded at most every RECORD_INTERVAL: each record is a commit, and a crash
        # only means handling a few more (idempotent) events again.
        with self._lock:
            low = min(self._inflight) - 1 if self._inflight else self._dispatched
            now = time.monotonic()
            due = flush or now - self._recorded_at >= RECORD_INTERVAL
            if low <= self._recorded or not due:
                return
            self._recorded, self._recorded_at = low, now
        # IntegrityError: another process sharing the database recorded a later position.
        with contextlib.suppress(IntegrityError):
            self._position.insert_tracking(Tracking(self._app.name, low))
