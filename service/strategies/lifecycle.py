"""A job's way through its strategy, as Medusa's BatchJobSubscriber drives it.

Shared by the in-process processor and the NATS workers: both call `pre_process` on
batch.created and `process` on batch.confirmed. Each handler is idempotent: a job not
in the status it expects is left alone, so a replayed or redelivered event is a no-op.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

import structlog

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.strategies.cancellation import CancelSignals
from service.strategies.run import ApplicationJobRun

if TYPE_CHECKING:
    from domain.strategies import BatchJobStrategy
    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("processor")


class RetryLater(Exception):  # noqa: N818 - an instruction, not a fault
    """The strategy asked for another attempt: run `process(resume=True)` after `delay`."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


def worker_actor() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


class JobLifecycle:
    def __init__(
        self,
        *,
        app: Jobstream,
        registry: StrategyRegistry,
        max_attempts: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        self._app = app
        self._registry = registry
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._actor = worker_actor()
        self.signals = CancelSignals()  # fed by the caller from the event stream

    def batch_type_of(self, job_id: str) -> str:
        return self._app.get_batch_job(job_id).type

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

    def process(self, job_id: str, *, resume: bool = False) -> None:
        """Claim and run a confirmed job; with `resume`, also one left in processing.

        A redelivered batch.confirmed (`resume`) means the worker that held the job
        stopped heartbeating: its job is run again from the start (strategies restart).
        """
        job = self._app.get_batch_job(job_id)
        if resume and job.status is BatchJobStatus.PROCESSING:
            log.info("processor.resuming", batch_type=job.type)
            try:
                strategy = self._registry.get(job.type)
            except Exception as error:  # noqa: BLE001 - as in the claim below
                self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
                return
            self._process_attempts(strategy, job_id)
            return
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
        """One attempt; a retryable failure raises RetryLater for the caller to wait."""
        run = ApplicationJobRun(self._app, job_id, self._actor, self.signals)
        try:
            strategy.process_job(run)
            self._app.change_batch_job(
                job_id, lambda j: j.complete(self._actor), current=run.latest
            )
        except Exception as error:
            if self._is_canceled(job_id):
                log.info("processor.canceled_while_processing")
                return
            strategy.handle_processing_error(run, error)
            job = run.job()
            attempt = int(job.context.get("retry_count", 0)) + 1
            retry = strategy.should_retry_on_processing_error(job, error)
            if retry and attempt < self._max_attempts:
                self._record_retry(run, error, attempt)
                raise RetryLater(self._retry_delay * 2 ** (attempt - 1)) from error
            self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
        else:
            log.info("processor.completed")
        finally:
            self.signals.forget(job_id)

    def _record_retry(
        self, run: ApplicationJobRun, error: Exception, attempt: int
    ) -> None:
        """Medusa's handleProcessingError for a retry: count it, keep its message."""
        snapshot = run.job()
        errors = [
            *(snapshot.result or {}).get("errors", []),
            _message(error, run.job_id),
        ]
        run.update(context={"retry_count": attempt}, result={"errors": errors})
        log.warning("processor.retrying", attempt=attempt, error=str(error))

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
