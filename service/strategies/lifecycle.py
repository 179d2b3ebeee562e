"""A job's way through its strategy, as Medusa's BatchJobSubscriber drives it.

Shared by the in-process processor and the NATS workers: both call `pre_process` on
batch.created and `process` on batch.confirmed. Each handler is idempotent: a job not
in the status it expects is left alone, so a replayed or redelivered event is a no-op.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from domain.batch_jobs import BatchJob, BatchJobStatus, LeaseHeldError, LeaseLostError
from domain.errors import NotAllowedError
from domain.leases import LeaseStep, gave_up_message
from service.retry import JOB_BACKOFF, retry_transient
from service.strategies.cancellation import CancelSignals
from service.strategies.lease_keeper import LeaseKeeper, utcnow
from service.strategies.run import ApplicationJobRun

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.strategies import BatchJobStrategy
    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("processor")


class RetryLater(Exception):  # noqa: N818 - an instruction, not a fault
    """The strategy asked for another attempt: run `process(resume=True)` after `delay`."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


def _fence(step: LeaseStep, leased: BatchJob) -> Callable[[BatchJob], None]:
    """The check every write of the attempt that `leased` started must pass."""
    attempt = leased.attempts_at(step)
    return lambda job: job.check_attempt(step, attempt)


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
        lease_seconds: float = 30.0,
    ) -> None:
        self._app = app
        self._registry = registry
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._lease_seconds = lease_seconds
        self._actor = worker_actor()
        self.signals = CancelSignals()  # fed by the caller from the event stream

    def batch_type_of(self, job_id: str) -> str:
        return self._app.get_batch_job(job_id).type

    def pre_process(self, job_id: str) -> None:
        job = self._app.get_batch_job(job_id)
        if job.status is not BatchJobStatus.CREATED:
            return  # already pre-processed, or canceled: a replayed event is a no-op
        leased = self._take_lease(job, LeaseStep.PRE_PROCESSING)
        if leased is None:
            return
        log.info("processor.pre_processing", batch_type=job.type)
        fence = _fence(LeaseStep.PRE_PROCESSING, leased)

        def done(current: BatchJob) -> None:
            fence(current)
            current.set_pre_processing_done(self._actor)

        with self._keeping_lease(job_id):
            try:
                strategy = self._registry.get(job.type)
                run = ApplicationJobRun(self._app, job_id, self._actor, fence=fence)
                self._riding_out_outages(
                    job_id, lambda: strategy.pre_process_batch_job(run)
                )
                self._app.change_batch_job(job_id, done, current=run.latest or leased)
            except LeaseLostError as lost:
                log.info("processor.lease_lost", reason=str(lost))
            except Exception as error:  # noqa: BLE001 - any error fails the job, as in Medusa
                self._fail(job_id, error, working_on=BatchJobStatus.CREATED)

    def process(self, job_id: str) -> None:
        """Claim and run a confirmed job, or take over one whose worker stopped.

        A job found processing with a lapsed lease lost its worker (or waits for a
        retry): it is run again from the start (strategies restart). One whose lease
        is live is another worker's: RetryLater, for when that lease would lapse.
        """
        job = self._app.get_batch_job(job_id)
        if job.status is BatchJobStatus.PROCESSING:
            leased = self._take_lease(job, LeaseStep.PROCESSING)
            if leased is None:
                return
            log.info("processor.resuming", batch_type=job.type)
        elif job.status is BatchJobStatus.CONFIRMED:
            try:
                # The claim: of processors racing here, optimistic concurrency lets
                # one win. The lease is taken in the same save.
                leased, _ = self._app.change_batch_job(job_id, self._claim, current=job)
            except Exception as error:  # noqa: BLE001 - any error fails the job, as in Medusa
                self._fail(job_id, error, working_on=BatchJobStatus.CONFIRMED)
                return
            log.info("processor.processing", batch_type=job.type)
        else:
            if job.status is BatchJobStatus.CANCELED and job.processing_at is not None:
                self._after_cancel(job)
            return
        try:
            strategy = self._registry.get(job.type)
        except Exception as error:  # noqa: BLE001 - as above
            self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
            return
        with self._keeping_lease(job_id):
            self._process_attempts(
                strategy, job_id, _fence(LeaseStep.PROCESSING, leased)
            )

    def _riding_out_outages(self, job_id: str, step: Callable[[], None]) -> None:
        """The step, run again from its start after an outage of NATS or PostgreSQL.

        A file write or a read failing for that is no fault of the job: the step is
        retried with backoff for up to JOB_BACKOFF.budget seconds, while the caller's
        LeaseKeeper renews the lease so nobody takes the job over. Strategies restart
        cleanly, as on a takeover. A job canceled meanwhile stops retrying; any other
        error is the job's own and is raised at once.
        """
        retry_transient(
            step,
            what=f"job {job_id}",
            backoff=JOB_BACKOFF,
            give_up=lambda: self._canceled_if_known(job_id),
        )

    def _canceled_if_known(self, job_id: str) -> bool:
        """Canceled meanwhile? An unreadable store (still away) means try again."""
        try:
            return self._is_canceled(job_id)
        except Exception:  # noqa: BLE001 - the next try meets the outage, or not
            return False

    def _claim(self, job: BatchJob) -> None:
        job.set_processing(self._actor)
        job.take_lease(self._actor, LeaseStep.PROCESSING, utcnow(), self._lease_seconds)

    def _take_lease(self, job: BatchJob, step: LeaseStep) -> BatchJob | None:
        """The job with this worker's new lease; None if there is nothing to do."""
        if job.lease_is_live(utcnow()):
            raise RetryLater(_until_lapsed(job))
        if job.attempts_at(step) >= self._max_attempts:
            message = gave_up_message(step, job.attempts_at(step), job.lease_holder)
            self._fail(job.id, message, working_on=job.status)
            return None

        def take(current: BatchJob) -> None:
            current.take_lease(self._actor, step, utcnow(), self._lease_seconds)

        try:
            leased, _ = self._app.change_batch_job(job.id, take, current=job)
        except LeaseHeldError:
            raise RetryLater(_until_lapsed(self._app.get_batch_job(job.id))) from None
        except NotAllowedError:
            return None  # finished or canceled meanwhile
        return leased

    def _keeping_lease(self, job_id: str) -> LeaseKeeper:
        return LeaseKeeper(self._app, job_id, self._actor, self._lease_seconds)

    def _process_attempts(
        self, strategy: BatchJobStrategy, job_id: str, fence: Callable[[BatchJob], None]
    ) -> None:
        """One attempt; a retryable failure raises RetryLater for the caller to wait.

        Every write of the attempt goes through its fence: once another attempt took
        the job over, this one stands down without writing (a paused or cut-off
        worker must not rewrite a job that is finished).
        """
        run = ApplicationJobRun(self._app, job_id, self._actor, self.signals, fence)

        def complete(current: BatchJob) -> None:
            fence(current)
            current.complete(self._actor)

        try:
            self._riding_out_outages(job_id, lambda: strategy.process_job(run))
            self._app.change_batch_job(job_id, complete, current=run.latest)
        except LeaseLostError as lost:
            log.info("processor.lease_lost", reason=str(lost))
        except Exception as error:
            if self._is_canceled(job_id):
                # Also where the cancel landed after process_job made its output
                # visible and before `complete` was saved: the cancel won.
                log.info("processor.canceled_while_processing")
                self._take_back(strategy, run)
                return
            strategy.handle_processing_error(run, error)
            job = run.job()
            attempt = int(job.context.get("retry_count", 0)) + 1
            retry = strategy.should_retry_on_processing_error(job, error)
            if retry and attempt < self._max_attempts:
                delay = self._retry_delay * 2 ** (attempt - 1)
                self._record_retry(job_id, error, attempt, delay)
                raise RetryLater(delay) from error
            self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
        else:
            log.info("processor.completed")
        finally:
            self.signals.forget(job_id)

    def _after_cancel(self, job: BatchJob) -> None:
        """A redelivery of a job canceled while it processed: take back its output.

        Its worker may have died after making the output visible and before it
        could see the cancel (the hook is idempotent: nothing left, nothing done).
        """
        try:
            strategy = self._registry.get(job.type)
        except Exception:  # noqa: BLE001 - no strategy here: nothing this worker can do
            return
        self._take_back(strategy, ApplicationJobRun(self._app, job.id, self._actor))

    def _take_back(self, strategy: BatchJobStrategy, run: ApplicationJobRun) -> None:
        try:
            strategy.handle_canceled_processing(run)
        except Exception:  # the job stays canceled; the log names what is left
            log.exception("processor.cancel_cleanup_failed")

    def _record_retry(
        self, job_id: str, error: Exception, attempt: int, delay: float
    ) -> None:
        """Medusa's handleProcessingError for a retry: count it, keep its message.

        The lease is released in the same save: the retry may run on any worker, and
        one must take it up within a lease length of its delay, or the reaper will.
        """
        message = _message(error, job_id)
        take_by = utcnow() + timedelta(seconds=delay + self._lease_seconds)

        def record(job: BatchJob) -> None:
            errors = [*(job.result or {}).get("errors", []), message]
            job.update(
                self._actor, context={"retry_count": attempt}, result={"errors": errors}
            )
            job.release_lease(self._actor, take_by)

        self._app.change_batch_job(job_id, record)
        log.warning("processor.retrying", attempt=attempt, error=str(error))

    def _is_canceled(self, job_id: str) -> bool:
        return self._app.get_batch_job(job_id).status is BatchJobStatus.CANCELED

    def _fail(
        self, job_id: str, error: Exception | str, working_on: BatchJobStatus
    ) -> None:
        """Record the failure, unless the job moved on from the step that failed."""
        message = error if isinstance(error, str) else _message(error, job_id)
        # An error may carry more lines for `result.errors` (an import's bad rows).
        further = list(getattr(error, "further_errors", ()))

        def fail(job: BatchJob) -> None:
            # Canceled meanwhile: it stays canceled (Medusa turns it failed by accident).
            # Moved past `working_on`: another processor did this step; stand down.
            if job.status is working_on:
                if further:
                    errors = [*(job.result or {}).get("errors", []), message, *further]
                    job.update(self._actor, result={"errors": errors})
                    job.set_failed(self._actor)
                else:
                    job.set_failed(self._actor, message)
                log.warning("processor.failed", error=message)
            else:
                log.info("processor.superseded", status=job.status.value, error=message)

        self._app.change_batch_job(job_id, fail)


def _until_lapsed(job: BatchJob) -> float:
    """Seconds until the job's lease lapses, and a little more."""
    if job.lease_expires_at is None:
        return 0.0
    return max(0.0, (job.lease_expires_at - utcnow()).total_seconds()) + 0.5


def _message(error: Exception, job_id: str) -> str:
    return str(error) or f"Something went wrong with the batchJob {job_id}"
