"""A job's way through its strategy, as Medusa's BatchJobSubscriber drives it.

`pre_process` runs on batch.created and `process` on batch.confirmed, each under a
lease whose attempt number fences every write of the step. Each is idempotent: a job
not in the status it expects is left alone, so a redelivered event is a no-op. The
rules themselves are `BatchJob` commands; this module sequences them, with time
from the engine's clock.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import structlog
from eventsourcing.persistence import IntegrityError

from domain.batch_jobs import BatchJob, BatchJobStatus, LeaseHeldError, LeaseLostError
from domain.errors import BatchJobNotFoundError, NotAllowedError
from domain.leases import LeaseStep, gave_up_message
from domain.strategies import AbstractBatchJobStrategy
from service import tracing
from service.engine.clock import SYSTEM_CLOCK, Clock
from service.engine.work import Step
from service.metrics.instruments import timed
from service.retry import JOB_BACKOFF, retry_transient
from service.strategies.cancellation import CancelSignals
from service.strategies.run import ApplicationJobRun

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from domain.strategies import BatchJobStrategy
    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("processor")
T = TypeVar("T")
# Jobs remembered as run on from their pre-processing (`JobSteps._ran_on`): far
# more than are created between a job's two deliveries.
RAN_ON_KEPT = 10_000


class RetryLater(Exception):  # noqa: N818 - an instruction, not a fault
    """Run the step again after `delay`: a retry, or another's live lease lapsing."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


def retry_delay_for(retry_delay: float, attempt: int) -> float:
    """Backoff of the strategy's own retries: `retry_delay`, doubled per attempt."""
    return retry_delay * 2.0 ** (attempt - 1)


def _fence(step: LeaseStep, leased: BatchJob) -> Callable[[BatchJob], None]:
    """The check every write of the attempt that `leased` started must pass."""
    attempt = leased.attempts_at(step)
    return lambda job: job.check_attempt(step, attempt)


def _strategy_fence(step: LeaseStep, leased: BatchJob) -> Callable[[BatchJob], None]:
    """The fence of the strategy's own writes: also closed once the job finished."""
    attempt = leased.attempts_at(step)
    return lambda job: job.check_strategy_write(step, attempt)


def pre_processes(strategy: BatchJobStrategy) -> bool:
    """Whether the strategy does any pre-processing (Medusa's default does none)."""
    method = getattr(type(strategy), "pre_process_batch_job", None)
    return method is not AbstractBatchJobStrategy.pre_process_batch_job


def worker_actor() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


class JobSteps:
    """Runs steps of jobs as one worker (`actor`), keeping a lease on each."""

    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        app: Jobstream,
        registry: StrategyRegistry,
        clock: Clock = SYSTEM_CLOCK,
        max_attempts: int = 3,
        retry_delay: float = 1.0,
        lease_seconds: float = 30.0,
        actor: str | None = None,
        run_on: bool | Callable[[], bool] = True,
    ) -> None:
        self._app = app
        self._registry = registry
        self._clock = clock
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self.lease_seconds = lease_seconds
        self.actor = actor or worker_actor()
        # batch.created's delivery runs the job on once pre-processed (`pre_process`),
        # always or while the callable says so; else batch.confirmed's claims and
        # runs it.
        self._run_on: Callable[[], bool] = (
            run_on if callable(run_on) else (lambda: run_on)
        )
        self.signals = CancelSignals()  # fed by the work source from the event stream
        # Jobs this worker claimed with their confirmation, newest last: their
        # batch.confirmed deliveries are acked without a read (a job's flag never
        # changes back, so a hit is exact; a miss reads the job).
        self._ran_on: dict[str, None] = {}
        self._ran_on_lock = threading.Lock()

    def run_on_while(self, room: Callable[[], bool]) -> None:
        """Run jobs on from their pre-processing only while `room()` says so.

        `jobstream worker`: while the slots of batch.created's engine have room
        (JobEngine.has_room), so previews never wait behind long runs.
        """
        self._run_on = room

    def read(self, job_id: str) -> BatchJob:
        """The job as stored now (raises BatchJobNotFoundError: not ours)."""
        return self._app.get_batch_job(job_id)

    def settled(self, step: Step, job_id: str) -> bool:
        """Whether the delivery has nothing to do, known without a read.

        batch.confirmed of a job this worker claimed with its confirmation: its
        batch.created delivery runs it (see `process`).
        """
        return step is Step.PROCESS and job_id in self._ran_on

    def run(
        self,
        step: Step,
        job_id: str,
        trace_parent: str | None = None,
        created: BatchJob | None = None,
        current: BatchJob | None = None,
    ) -> float | None:
        """Run `step` of the job; None when done, else the seconds to retry after.

        batch.created's step runs the job on once it is pre-processed (see
        `pre_process`), each part in a span of its own. `trace_parent`: the trace
        context the delivery carried (a NATS header); without one, the steps join
        the trace stored with the job. `created`: the job as its batch.created event
        made it, if the delivery decoded it (see `_pre_process`). `current`: the job
        as read from the store just now (for the type's limit): the step's first
        read.
        """
        try:
            if step is Step.PROCESS:
                if self.settled(step, job_id):
                    return None  # not this delivery's: see `process`
                job = current or self._app.get_batch_job(job_id)
                if not job.runs_on_from_pre_processing:  # else not this delivery's
                    self._in_span(
                        step, job_id, trace_parent, lambda: self._process(job), job
                    )
                return None
            runs_on = self._in_span(
                step,
                job_id,
                trace_parent,
                lambda: self._pre_process(job_id, created, current),
                created or current,
            )
            if runs_on is not None:
                self._in_span(
                    Step.PROCESS,
                    job_id,
                    trace_parent,
                    lambda: self._run_processing(runs_on),
                )
        except RetryLater as retry:
            return retry.delay
        return None

    def _in_span(
        self,
        step: Step,
        job_id: str,
        trace_parent: str | None,
        body: Callable[[], T],
        job: BatchJob | None = None,
    ) -> T:
        """`body()`, in the step's span where tracing is on."""
        if not tracing.enabled:
            return body()
        from service.tracing import spans  # noqa: PLC0415 - only when tracing

        # The job gives its type and, where the delivery carried none, its trace.
        try:
            job = job or self._app.get_batch_job(job_id)
        except BatchJobNotFoundError:
            return body()  # not ours: the step reports it, untraced
        parent = trace_parent or job.trace_parent
        with spans.running_step(step.value, job_id, job.type, parent) as span:
            try:
                return body()
            except RetryLater as retry:
                span.set_attribute("batch_job.retry_in_s", retry.delay)
                later = retry
        raise later

    # -- leases kept fresh -------------------------------------------------------

    def renew_leases(self, job_ids: Iterable[str]) -> int:
        """Renew this worker's lease on each job; return how many were renewed.

        Called every third of a lease length by the engine for the jobs it runs:
        two missed renewals (a slow store, a pause) before the lease lapses and the
        job is taken over. A job finished, canceled or taken over is left alone. The
        renewals share one write; if another write to one of the jobs raced it, each
        is renewed on its own.
        """
        now = self._clock.now()
        renewed: list[BatchJob] = []
        for job_id in job_ids:
            try:
                job = self._app.get_batch_job(job_id)
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("lease.renew_failed", job_id=job_id, error=repr(error))
                continue
            if job.renew_lease(self.actor, now, self.lease_seconds):
                renewed.append(job)
        if not renewed:
            return 0
        try:
            self._app.save(*renewed)
        except IntegrityError:
            return sum(self._renew(job.id) for job in renewed)
        except Exception as error:  # noqa: BLE001 - the next round tries again
            log.warning("lease.renew_failed", error=repr(error))
            return 0
        return len(renewed)

    def _renew(self, job_id: str) -> bool:
        kept = False

        def renew(job: BatchJob) -> None:
            nonlocal kept
            kept = job.renew_lease(self.actor, self._clock.now(), self.lease_seconds)

        try:
            self._app.change_batch_job(job_id, renew)
        except Exception as error:  # noqa: BLE001 - the next round tries again
            log.warning("lease.renew_failed", job_id=job_id, error=repr(error))
            return False
        return kept

    # -- the steps ---------------------------------------------------------------

    def pre_process(self, job_id: str) -> None:
        """batch.created's step: pre-process the job and, unless a dry run, run it.

        The write that ends pre-processing also confirms the job and claims it for
        processing under this worker's lease (`set_pre_processing_done_and_claim`),
        and this delivery runs the processing: no second delivery, read or claim
        write. It owns the job from then on: a redelivery (after a crash, a retry's
        delay) takes it over or retries it, and batch.confirmed's leaves it alone.
        A strategy with no pre-processing takes no lease for it: there is nothing
        to fence, and a lost race is decided again on the job as stored. Without
        `run_on` the job is only confirmed, and its batch.confirmed delivery runs
        it, as Medusa's subscriber does.
        """
        runs_on = self._pre_process(job_id)
        if runs_on is not None:
            self._run_processing(runs_on)

    def _pre_process(
        self,
        job_id: str,
        created: BatchJob | None = None,
        current: BatchJob | None = None,
    ) -> BatchJob | None:
        """Pre-process; the job, leased for processing, if this delivery runs it on.

        `created`, the job as batch.created made it, spares the read where the
        strategy does no pre-processing: its save conflicts if the job has moved
        on since (a replay, a cancel), and the step is then decided again on the
        job as stored, as if no copy had come.
        """
        if created is not None:
            strategy = self._strategy_or_none(created.type)
            if strategy is not None and not pre_processes(strategy):
                ended = self._end_pre_processing(job_id, created, fence=None)
                if ended is created or self._runs_on(ended):
                    return self._ran_on_here(ended)
        if created is not None or current is None:  # the copy's save may have moved it
            current = self._app.get_batch_job(job_id)
        job = current
        if job.status is not BatchJobStatus.CREATED:
            if job.runs_on_from_pre_processing:
                # Processing this delivery started: a retry, or a takeover.
                return self._lease_for_processing(job)
            return None  # already pre-processed, or canceled: a replayed event
        strategy = self._strategy_or_none(job.type)
        saved: BatchJob | None
        if strategy is not None and not pre_processes(strategy):
            saved = self._end_pre_processing(job_id, job, fence=None)
        else:
            saved = self._pre_process_leased(job)
        if saved is None:
            return None
        return self._ran_on_here(saved)

    def _ran_on_here(self, saved: BatchJob) -> BatchJob | None:
        """`saved` if this worker just claimed it with its confirmation, noted; else None."""
        if not self._runs_on(saved):
            return None
        job_id = saved.id
        with self._ran_on_lock:
            if len(self._ran_on) >= RAN_ON_KEPT:
                del self._ran_on[next(iter(self._ran_on))]  # the oldest
            self._ran_on[job_id] = None
        log.info("processor.processing", batch_type=saved.type)
        return saved

    def _pre_process_leased(self, job: BatchJob) -> BatchJob | None:
        """The strategy's pre-processing under a lease; the job as it ended, if it did."""
        leased = self._take_lease(job, LeaseStep.PRE_PROCESSING)
        if leased is None:
            return None
        log.info("processor.pre_processing", batch_type=job.type)
        try:
            strategy = self._registry.get(job.type)
            run = ApplicationJobRun(
                self._app,
                job.id,
                self.actor,
                fence=_strategy_fence(LeaseStep.PRE_PROCESSING, leased),
            )
            with timed(job.type, Step.PRE_PROCESS):
                self._riding_out_outages(
                    job.id, lambda: strategy.pre_process_batch_job(run)
                )
            return self._end_pre_processing(
                job.id,
                run.latest or leased,
                fence=_fence(LeaseStep.PRE_PROCESSING, leased),
            )
        except LeaseLostError as lost:
            log.info("processor.lease_lost", reason=str(lost))
        except Exception as error:  # noqa: BLE001 - any error fails the job, as in Medusa
            self._fail(job.id, error, working_on=BatchJobStatus.CREATED)
        return None

    def _end_pre_processing(
        self,
        job_id: str,
        current: BatchJob,
        fence: Callable[[BatchJob], None] | None,
    ) -> BatchJob:
        """Save pre_processed (and confirmed and claimed); the job as saved."""

        def done(job: BatchJob) -> None:
            if fence is not None:
                fence(job)
            if job.status is not BatchJobStatus.CREATED:
                return  # this attempt's save of it was stored after all, or canceled
            if self._run_on():
                job.set_pre_processing_done_and_claim(
                    self.actor, self._clock.now(), self.lease_seconds
                )
            else:
                job.set_pre_processing_done(self.actor)

        saved: list[BatchJob] = []
        copy: list[BatchJob | None] = [current]

        def end() -> None:
            try:
                saved[:] = [self._app.change_batch_job(job_id, done, copy[0])[0]]
            except BaseException:
                copy[0] = None  # it may hold the failed save's events: read afresh
                raise

        self._riding_out_outages(job_id, end)
        return saved[0]

    def _runs_on(self, job: BatchJob) -> bool:
        """The job was just claimed with its confirmation, by this worker."""
        return (
            job.status is BatchJobStatus.PROCESSING
            and job.runs_on_from_pre_processing
            and job.lease_holder == self.actor
            and job.lease_step == LeaseStep.PROCESSING.value
        )

    def _strategy_or_none(self, batch_type: str) -> BatchJobStrategy | None:
        try:
            return self._registry.get(batch_type)
        except Exception:  # noqa: BLE001 - the leased path reports it, as before
            return None

    def process(self, job_id: str) -> None:
        """batch.confirmed's step: claim and run the job, or take it over.

        A job claimed with its confirmation is its batch.created delivery's, for
        good (`pre_process`: the run, a retry, a takeover, the clean-up after a
        cancel): this one leaves it alone.
        """
        job = self._app.get_batch_job(job_id)
        if not job.runs_on_from_pre_processing:
            self._process(job)

    def _process(self, job: BatchJob) -> None:
        leased = self._lease_for_processing(job)
        if leased is not None:
            self._run_processing(leased)

    def _lease_for_processing(self, job: BatchJob) -> BatchJob | None:
        """Claim a confirmed job, or take over one whose worker stopped.

        A job found processing with a lapsed lease lost its worker (or waits for a
        retry): it is run again from the start (strategies restart). One whose lease
        is live is another worker's: RetryLater, for when that lease would lapse.
        Returns the job leased to this worker, or None: nothing to run.
        """
        if job.status is BatchJobStatus.PROCESSING:
            leased = self._take_lease(job, LeaseStep.PROCESSING)
            if leased is not None:
                log.info("processor.resuming", batch_type=job.type)
            return leased
        if job.status is BatchJobStatus.CONFIRMED:
            try:
                # The claim: one event, processing under this worker's lease.
                leased, _ = self._app.change_batch_job(job.id, self._claim, current=job)
            except Exception as error:  # noqa: BLE001 - any error fails the job, as in Medusa
                self._fail(job.id, error, working_on=BatchJobStatus.CONFIRMED)
                return None
            log.info("processor.processing", batch_type=job.type)
            return leased
        if job.status is BatchJobStatus.CANCELED and job.processing_at is not None:
            self._after_cancel(job)
        return None

    def _run_processing(self, leased: BatchJob) -> None:
        """Run the strategy on a job this worker has just leased for processing."""
        try:
            strategy = self._registry.get(leased.type)
        except Exception as error:  # noqa: BLE001 - as above
            self._fail(leased.id, error, working_on=BatchJobStatus.PROCESSING)
            return
        self._process_attempt(
            strategy,
            leased,
            _fence(LeaseStep.PROCESSING, leased),
            _strategy_fence(LeaseStep.PROCESSING, leased),
        )

    def _riding_out_outages(self, job_id: str, step: Callable[[], None]) -> None:
        """The step, run again from its start after an outage of NATS or PostgreSQL.

        A file write or a read failing for that is no fault of the job: the step is
        retried with backoff for up to JOB_BACKOFF.budget seconds, while the engine
        renews the lease so nobody takes the job over. Strategies restart cleanly,
        as on a takeover. A job canceled meanwhile stops retrying; any other error
        is the job's own and is raised at once.
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
        job.claim(self.actor, self._clock.now(), self.lease_seconds)

    def _take_lease(self, job: BatchJob, step: LeaseStep) -> BatchJob | None:
        """The job with this worker's new lease; None if there is nothing to do."""
        if job.lease_is_live(self._clock.now()):
            raise RetryLater(self._until_lapsed(job))
        if job.attempts_at(step) >= self._max_attempts:
            message = gave_up_message(step, job.attempts_at(step), job.lease_holder)
            self._fail(job.id, message, working_on=job.status)
            return None

        def take(current: BatchJob) -> None:
            current.take_lease(self.actor, step, self._clock.now(), self.lease_seconds)

        try:
            leased, _ = self._app.change_batch_job(job.id, take, current=job)
        except LeaseHeldError:
            latest = self._app.get_batch_job(job.id)
            raise RetryLater(self._until_lapsed(latest)) from None
        except NotAllowedError:
            return None  # finished or canceled meanwhile
        return leased

    def _process_attempt(
        self,
        strategy: BatchJobStrategy,
        leased: BatchJob,
        fence: Callable[[BatchJob], None],
        strategy_fence: Callable[[BatchJob], None],
    ) -> None:
        """One attempt; a retryable failure raises RetryLater for the caller to wait.

        Every write of the attempt goes through its fence: once another attempt took
        the job over, this one stands down without writing (a paused or cut-off
        worker must not rewrite a job that is finished).
        """
        job_id = leased.id
        run = ApplicationJobRun(
            self._app, job_id, self.actor, self.signals, strategy_fence
        )
        run.latest = leased  # as just saved: the first write needs no read

        def complete(current: BatchJob) -> None:
            fence(current)
            if current.status is BatchJobStatus.COMPLETED:
                return  # the fence passed: this attempt's save of it was stored after all
            current.complete(self.actor)

        try:
            with timed(strategy.batch_type, Step.PROCESS):
                self._riding_out_outages(job_id, lambda: strategy.process_job(run))
            # The output is made: an outage now delays the completion, never redoes
            # or fails the work (a save cut at its commit may have been stored).
            self._riding_out_outages(job_id, lambda: self._end_step(run, complete))
        except LeaseLostError as lost:
            log.info("processor.lease_lost", reason=str(lost))
        except Exception as error:
            status = self._app.get_batch_job(job_id).status
            if status is BatchJobStatus.CANCELED:
                # Also where the cancel landed after process_job made its output
                # visible and before `complete` was saved: the cancel won.
                log.info("processor.canceled_while_processing")
                self._take_back(strategy, run)
                return
            if status is not BatchJobStatus.PROCESSING:
                # Finished meanwhile: a finished job gains no event (nor loses its file).
                log.info("processor.finished_meanwhile", status=status.value)
                return
            try:
                strategy.handle_processing_error(run, error)
            except LeaseLostError as lost:
                log.info("processor.lease_lost", reason=str(lost))
                return
            job = run.job()
            attempt = int(job.context.get("retry_count", 0)) + 1
            retry = strategy.should_retry_on_processing_error(job, error)
            if retry and attempt < self._max_attempts:
                delay = retry_delay_for(self._retry_delay, attempt)
                self._record_retry(job_id, error, attempt, delay, fence)
                raise RetryLater(delay) from error
            self._fail(job_id, error, working_on=BatchJobStatus.PROCESSING)
        else:
            log.info("processor.completed")
        finally:
            self.signals.forget(job_id)

    def _end_step(
        self, run: ApplicationJobRun, command: Callable[[BatchJob], None]
    ) -> None:
        """Save the step's last command (fenced, idempotent) on the run's copy.

        A failed save leaves its event on the copy: the next try reads afresh.
        """
        try:
            self._app.change_batch_job(run.job_id, command, current=run.latest)
        except BaseException:
            run.forget_latest()
            raise

    def _after_cancel(self, job: BatchJob) -> None:
        """A redelivery of a job canceled while it processed: take back its output.

        Its worker may have died after making the output visible and before it
        could see the cancel (the hook is idempotent: nothing left, nothing done).
        """
        try:
            strategy = self._registry.get(job.type)
        except Exception:  # noqa: BLE001 - no strategy here: nothing this worker can do
            return
        self._take_back(strategy, ApplicationJobRun(self._app, job.id, self.actor))

    def _take_back(self, strategy: BatchJobStrategy, run: ApplicationJobRun) -> None:
        try:
            strategy.handle_canceled_processing(run)
        except Exception:  # the job stays canceled; the log names what is left
            log.exception("processor.cancel_cleanup_failed")

    def _record_retry(
        self,
        job_id: str,
        error: Exception,
        attempt: int,
        delay: float,
        fence: Callable[[BatchJob], None],
    ) -> None:
        message = _message(error, job_id)
        take_by = self._clock.now() + timedelta(seconds=delay + self.lease_seconds)

        def record(job: BatchJob) -> None:
            fence(job)
            job.record_retry(self.actor, message, attempt, take_by)

        self._app.change_batch_job(job_id, record)
        log.warning("processor.retrying", attempt=attempt, error=str(error))

    def _is_canceled(self, job_id: str) -> bool:
        return self._app.get_batch_job(job_id).status is BatchJobStatus.CANCELED

    def _fail(
        self, job_id: str, error: Exception | str, working_on: BatchJobStatus
    ) -> None:
        """Record the failure, unless the job moved on from the step that failed."""
        message = error if isinstance(error, str) else _message(error, job_id)
        further = getattr(error, "further_errors", ())
        failed = False

        def fail(job: BatchJob) -> None:
            nonlocal failed
            failed = job.fail_step(self.actor, message, working_on, further)

        self._app.change_batch_job(job_id, fail)
        if failed:
            if tracing.enabled:
                from service.tracing import spans  # noqa: PLC0415 - only when tracing

                spans.step_failed(message)
            log.warning("processor.failed", error=message)
        else:
            log.info("processor.superseded", error=message)

    def _until_lapsed(self, job: BatchJob) -> float:
        """Seconds until the job's lease lapses, and a little more."""
        if job.lease_expires_at is None:
            return 0.0
        left = (job.lease_expires_at - self._clock.now()).total_seconds()
        return max(0.0, left) + 0.5


def _message(error: Exception, job_id: str) -> str:
    return str(error) or f"Something went wrong with the batchJob {job_id}"
