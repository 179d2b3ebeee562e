"""Runs strategies on batch.created and batch.confirmed, as Medusa's subscriber does.

It reacts to events read from the event store, never to calls from the HTTP layer.
Handlers are idempotent (a job not in the expected status is left alone), so the
position is recorded as a low-water mark: after a restart, events whose work had not
finished are handled again, and those that had are no-ops.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.strategies.run import ApplicationJobRun

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from domain.strategies import BatchJobStrategy
    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("processor")

TOPICS = (get_topic(BatchJob.Created), get_topic(BatchJob.Confirmed))
RECORD_INTERVAL = 0.5  # seconds between records of the processor's position


def worker_actor() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


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
    ) -> None:
        self._app = app
        self._registry = registry
        self._position = position
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="batch-job")
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._actor = worker_actor()
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._dispatched = 0
        self._recorded = position.max_tracking_id(app.name) or 0
        self._recorded_at = 0.0

    def start_position(self) -> int | None:
        return self._position.max_tracking_id(self._app.name)

    def __call__(self, batch: Sequence[tuple[int, Any]]) -> None:
        """Dispatch a batch of events to the pool; called by the catch-up runner."""
        for notification_id, event in batch:
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
        # Queued work is dropped; its events stay above the low-water mark for next time.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._record_low_water(flush=True)

    def _work_for(self, event: Any) -> Callable[[str], None] | None:
        if isinstance(event, BatchJob.Created):
            return self.pre_process
        if isinstance(event, BatchJob.Confirmed):
            return self.process
        return None

    def _run(
        self, notification_id: int, work: Callable[[str], None], job_id: str
    ) -> None:
        try:
            with structlog.contextvars.bound_contextvars(job_id=job_id):
                work(job_id)
        except Exception:
            log.exception("processor.unhandled_error", job_id=job_id)
        finally:
            with self._lock:
                self._inflight.discard(notification_id)
            self._record_low_water()

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

    # -- the lifecycle, as Medusa's BatchJobSubscriber ----------------------------

    def pre_process(self, job_id: str) -> None:
        job = self._app.get_batch_job(job_id)
        if job.status is not BatchJobStatus.CREATED:
            return  # already pre-processed, or canceled: a replayed event is a no-op
        log.info("processor.pre_processing", batch_type=job.type)
        try:
            strategy = self._registry.get(job.type)
            run = ApplicationJobRun(self._app, job_id, self._actor)
            strategy.pre_process_batch_job(run)
            self._app.change_batch_job(
                job_id,
                lambda j: j.set_pre_processing_done(self._actor),
                current=run.latest or job,
            )
        except Exception as error:  # noqa: BLE001 - any error fails the job, as in Medusa
            self._fail(job_id, error, working_on=BatchJobStatus.CREATED)

    def process(self, job_id: str) -> None:
        job = self._app.get_batch_job(job_id)
        if job.status is not BatchJobStatus.CONFIRMED:
            return
        try:
            strategy = self._registry.get(job.type)
            # The claim: of processors racing here, optimistic concurrency lets one win.
            self._app.change_batch_job(
                job_id, lambda j: j.set_processing(self._actor), current=job
            )
        except Exception as error:  # noqa: BLE001 - as above
            self._fail(job_id, error, working_on=BatchJobStatus.CONFIRMED)
            return
        log.info("processor.processing", batch_type=job.type)
        self._process_attempts(strategy, job_id)

    def _process_attempts(self, strategy: BatchJobStrategy, job_id: str) -> None:
        run = ApplicationJobRun(self._app, job_id, self._actor)
        for attempt in range(1, self._max_attempts + 1):
            try:
                strategy.process_job(run)
                self._app.change_batch_job(
                    job_id, lambda j: j.complete(self._actor), current=run.latest
                )
            except Exception as error:  # noqa: BLE001 - decided below, then recorded
                if self._is_canceled(job_id):
                    log.info("processor.canceled_while_processing")
                    return
                strategy.handle_processing_error(run, error)
                if (
                    attempt < self._max_attempts
                    and strategy.should_retry_on_processing_error(run.job(), error)
                ):
                    self._record_retry(run, error, attempt)
                    continue
                self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
                return
            else:
                log.info("processor.completed")
                return

    def _record_retry(
        self, run: ApplicationJobRun, error: Exception, attempt: int
    ) -> None:
        snapshot = run.job()
        errors = [
            *(snapshot.result or {}).get("errors", []),
            _message(error, run.job_id),
        ]
        run.update(context={"retry_count": attempt}, result={"errors": errors})
        log.warning("processor.retrying", attempt=attempt, error=str(error))
        time.sleep(self._retry_delay * 2 ** (attempt - 1))

    def _is_canceled(self, job_id: str) -> bool:
        return self._app.get_batch_job(job_id).status is BatchJobStatus.CANCELED

    def _fail(self, job_id: str, error: Exception, working_on: BatchJobStatus) -> None:
        """Record the failure, unless the job moved on from the step that failed."""
        message = _message(error, job_id)

        def fail(job: BatchJob) -> None:
            # Canceled meanwhile: it stays canceled (Medusa turns it failed by accident).
            # Moved past `working_on`: another processor did this step; stand down.
            if job.status is working_on:
                job.set_failed(self._actor, message)
                log.warning("processor.failed", error=message)
            else:
                log.info("processor.superseded", status=job.status.value, error=message)

        self._app.change_batch_job(job_id, fail)


def _message(error: Exception, job_id: str) -> str:
    return str(error) or f"Something went wrong with the batchJob {job_id}"
