"""The batch job aggregate: Medusa's lifecycle as events, status derived from stamps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from eventsourcing.domain import BaseAggregate, TAggregate

from domain import aggregates, ids, leases
from domain.errors import InvalidDataError, NotAllowedError, NotJobOwnerError
from domain.leases import LeaseStep

JsonObject = dict[str, Any]


class BatchJobStatus(StrEnum):
    CREATED = "created"
    PRE_PROCESSED = "pre_processed"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"


# Medusa's loadStatus(): the last set stamp in this order wins, whatever its value.
STATUS_STAMPS: tuple[tuple[str, BatchJobStatus], ...] = (
    ("pre_processed_at", BatchJobStatus.PRE_PROCESSED),
    ("confirmed_at", BatchJobStatus.CONFIRMED),
    ("processing_at", BatchJobStatus.PROCESSING),
    ("completed_at", BatchJobStatus.COMPLETED),
    ("canceled_at", BatchJobStatus.CANCELED),
    ("failed_at", BatchJobStatus.FAILED),
)
STAMP_FIELDS = tuple(field for field, _ in STATUS_STAMPS)
FINAL_STATUSES = frozenset(
    {BatchJobStatus.COMPLETED, BatchJobStatus.CANCELED, BatchJobStatus.FAILED}
)


def derive_status(stamps: Mapping[str, object]) -> BatchJobStatus:
    """Status from lifecycle stamps with precedence failed > canceled > ... > created."""
    status = BatchJobStatus.CREATED
    for field, candidate in STATUS_STAMPS:
        if stamps.get(field) is not None:
            status = candidate
    return status


def shallow_merge(
    current: JsonObject | None, patch: Mapping[str, Any] | None, unset: Iterable[str]
) -> JsonObject | None:
    """Medusa's `{...old, ...new}`; `unset` names keys set to undefined (dropped)."""
    keys_to_drop = list(unset)
    if patch is None and not keys_to_drop:
        return current
    merged = {**(current or {}), **(patch or {})}
    for key in keys_to_drop:
        merged.pop(key, None)
    return merged


class BatchJob(BaseAggregate[str]):
    """A batch job of one type, created by a user and driven by its strategy."""

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        pass

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        """A new job; `retry_of` names the failed job whose work it runs again.

        Version 2 added `retry_of`; stored version-1 events are read through
        `upcast_v1_v2` as retrying nothing. `trace_parent`, the W3C traceparent of
        the trace the job belongs to, is set only where tracing is on, and read as
        None from events stored before it existed (the class default).
        """

        NAME = "batch.created"
        class_version: ClassVar[int] = 2
        type: str
        created_by: str | None
        context: JsonObject
        dry_run: bool
        retry_of: str | None
        trace_parent: str | None = None

        @staticmethod
        def upcast_v1_v2(state: JsonObject) -> None:
            state.setdefault("retry_of", None)

    @dataclass(frozen=True)
    class Updated(Event):
        """A strategy's patch of result and context.

        Version 2 added the keys to remove (`unset_*`); stored version-1 events are
        read through `upcast_v1_v2` as removing none.
        """

        NAME = "batch.updated"
        class_version: ClassVar[int] = 2
        result: JsonObject | None
        context: JsonObject | None
        unset_result: list[str]
        unset_context: list[str]

        @staticmethod
        def upcast_v1_v2(state: JsonObject) -> None:
            state.setdefault("unset_result", [])
            state.setdefault("unset_context", [])

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.result = shallow_merge(
                aggregate.result, self.result, self.unset_result
            )
            merged_context = shallow_merge(
                aggregate.context, self.context, self.unset_context
            )
            aggregate.context = merged_context or {}

    @dataclass(frozen=True)
    class PreProcessed(Event):
        NAME = "batch.pre_processed"

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.pre_processed_at = self.timestamp
            clear_lease(aggregate)

    @dataclass(frozen=True)
    class Confirmed(Event):
        NAME = "batch.confirmed"

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.confirmed_at = self.timestamp

    @dataclass(frozen=True)
    class ProcessingStarted(Event):
        """Processing started; with a `holder`, that worker's lease is taken with it.

        Version 2 folded the claim's lease into this event (one event, not two, per
        claim); stored version-1 events are read through `upcast_v1_v2` as no lease
        (their `batch.lease_taken` follows them). Version 3 says whether the claim
        was saved with the job's confirmation (`with_confirmation`): then the worker
        that pre-processed the job runs it on, and its batch.created delivery owns
        the job until it ends (`BatchJob.runs_on_from_pre_processing`).
        """

        NAME = "batch.processing"
        class_version: ClassVar[int] = 3
        holder: str | None
        expires_at: datetime | None
        with_confirmation: bool

        @staticmethod
        def upcast_v1_v2(state: JsonObject) -> None:
            state.setdefault("holder", None)
            state.setdefault("expires_at", None)

        @staticmethod
        def upcast_v2_v3(state: JsonObject) -> None:
            state.setdefault("with_confirmation", False)

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.processing_at = self.timestamp
            aggregate.runs_on_from_pre_processing = self.with_confirmation
            if self.holder is not None and self.expires_at is not None:
                lease_taken(
                    aggregate, self.holder, LeaseStep.PROCESSING, self.timestamp,
                    self.expires_at,
                )  # fmt: skip

    @dataclass(frozen=True)
    class Completed(Event):
        NAME = "batch.completed"

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.completed_at = self.timestamp
            clear_lease(aggregate)

    @dataclass(frozen=True)
    class Canceled(Event):
        NAME = "batch.canceled"

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.canceled_at = self.timestamp
            clear_lease(aggregate)

    @dataclass(frozen=True)
    class Failed(Event):
        """Failure; a given error is appended to `result.errors` in the same event."""

        NAME = "batch.failed"
        error: Any

        def apply(self, aggregate: BatchJob) -> None:
            if self.error is not None:
                previous = (aggregate.result or {}).get("errors") or []
                errors = [*previous, self.error]
                aggregate.result = shallow_merge(
                    aggregate.result, {"errors": errors}, ()
                )
            aggregate.failed_at = self.timestamp
            clear_lease(aggregate)

    @dataclass(frozen=True)
    class Retried(Event):
        """Jobstream's extension: this failed job's work runs again as `retry_id`.

        It links the attempts in the history and changes nothing Medusa shows: the
        job stays failed and keeps its `updated_at` (`mutate` leaves `modified_on`
        as it was), and the read model's fold passes over it.
        """

        NAME = "batch.retried"
        retry_id: str

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.retries = [*aggregate.retries, self.retry_id]

        def mutate(self, aggregate: TAggregate | None) -> TAggregate | None:
            modified_on = None if aggregate is None else aggregate.modified_on
            mutated = super().mutate(aggregate)
            if mutated is not None and modified_on is not None:
                mutated.modified_on = modified_on
            return mutated

    @dataclass(frozen=True)
    class LeaseTaken(Event):
        """A worker started a step (first run, retry, or takeover of a lost lease)."""

        NAME = "batch.lease_taken"
        holder: str
        step: str
        expires_at: datetime

        def apply(self, aggregate: BatchJob) -> None:
            lease_taken(
                aggregate, self.holder, self.step, self.timestamp, self.expires_at
            )

    @dataclass(frozen=True)
    class LeaseRenewed(Event):
        """The holder is still working: its lease runs until `expires_at`."""

        NAME = "batch.lease_renewed"
        expires_at: datetime

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.lease_expires_at = self.expires_at

    @dataclass(frozen=True)
    class LeaseReleased(Event):
        """The holder let go to retry later: a worker must take it by `expires_at`."""

        NAME = "batch.lease_released"
        expires_at: datetime

        def apply(self, aggregate: BatchJob) -> None:
            aggregate.lease_holder = None
            aggregate.lease_expires_at = self.expires_at

    @staticmethod
    def create_id(*_: Any, **__: Any) -> str:
        return ids.new_id("batch")

    def __init__(  # noqa: PLR0913 - the Created event's fields, all by name
        self,
        type: str,  # noqa: A002 - Medusa's field name
        created_by: str | None,
        context: JsonObject,
        dry_run: bool,  # noqa: FBT001 - event attributes arrive by name
        actor: str,
        *,
        retry_of: str | None = None,
        trace_parent: str | None = None,
    ) -> None:
        self.type = type
        self.created_by = created_by
        self.context: JsonObject = dict(context)
        # The context as created, before any strategy's update: what a retry starts from.
        self.created_context: JsonObject = dict(context)
        self.dry_run = dry_run
        self.result: JsonObject | None = None
        self.pre_processed_at: datetime | None = None
        self.confirmed_at: datetime | None = None
        self.processing_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.canceled_at: datetime | None = None
        self.failed_at: datetime | None = None
        self.created_actor = actor
        # Jobstream's extension: the failed job this one retries, and its own retries.
        self.retry_of = retry_of
        self.retries: list[str] = []
        # Jobstream's extension: the current step's lease, and runs per step.
        self.attempts: dict[str, int] = {}
        self.lease_holder: str | None = None
        self.lease_step: str | None = None
        self.lease_acquired_at: datetime | None = None
        self.lease_expires_at: datetime | None = None
        # Processing was claimed with the confirmation (ProcessingStarted, version 3).
        self.runs_on_from_pre_processing = False
        # Not part of Medusa's job: the trace its steps join (service.tracing).
        self.trace_parent = trace_parent

    @classmethod
    def create(  # noqa: PLR0913 - Medusa's create input plus identity, all by name
        cls,
        *,
        batch_type: str,
        created_by: str | None,
        context: Mapping[str, Any],
        dry_run: bool,
        actor: str,
        job_id: str | None = None,
        retry_of: str | None = None,
        trace_parent: str | None = None,
    ) -> BatchJob:
        return cls._create(
            cls.Created,
            id=job_id,
            type=batch_type,
            created_by=created_by,
            context=dict(context),
            dry_run=dry_run,
            actor=actor,
            retry_of=retry_of,
            trace_parent=trace_parent,
        )

    # Medusa's column names for the aggregate's own timestamps.
    @property
    def created_at(self) -> datetime:
        return self.created_on

    @property
    def updated_at(self) -> datetime:
        return self.modified_on

    @property
    def deleted_at(self) -> datetime | None:
        return None  # v1 has no delete endpoint for batch jobs

    @property
    def status(self) -> BatchJobStatus:
        return derive_status(vars(self))

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def ensure_accessible_by(self, user_id: str) -> None:
        # Medusa's canAccessBatchJob: creator only, no admin bypass.
        if self.created_by != user_id:
            raise NotJobOwnerError

    def update(
        self,
        actor: str,
        *,
        result: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        unset_result: Iterable[str] = (),
        unset_context: Iterable[str] = (),
    ) -> None:
        self.trigger_event(
            self.Updated,
            actor=actor,
            result=None if result is None else dict(result),
            context=None if context is None else dict(context),
            unset_result=list(unset_result),
            unset_context=list(unset_context),
        )

    def set_pre_processing_done(self, actor: str) -> None:
        if self.status is BatchJobStatus.PRE_PROCESSED:
            return
        if self.status is not BatchJobStatus.CREATED:
            raise NotAllowedError(
                "Cannot mark a batch job as pre processed if it is not in created status"
            )
        self.trigger_event(self.PreProcessed, actor=actor)
        if not self.dry_run:
            self.confirm(actor)

    def set_pre_processing_done_and_claim(
        self, holder: str, now: datetime, seconds: float
    ) -> None:
        """Pre-processed and, unless a dry run, confirmed and claimed, in one write.

        The worker that pre-processed the job runs it on under its new lease, with
        no second delivery, read or claim write; the job's batch.confirmed delivery
        then leaves it alone (`runs_on_from_pre_processing`).
        """
        self.set_pre_processing_done(holder)
        if self.status is BatchJobStatus.CONFIRMED:
            self.claim(holder, now, seconds, with_confirmation=True)

    def confirm(self, actor: str) -> None:
        if self.status is not BatchJobStatus.PRE_PROCESSED:
            raise NotAllowedError(
                "Cannot confirm processing for a batch job that is not pre processed"
            )
        self.trigger_event(self.Confirmed, actor=actor)

    def set_processing(self, actor: str) -> None:
        if self.status is not BatchJobStatus.CONFIRMED:
            raise NotAllowedError(
                "Cannot mark a batch job as processing "
                "if the status is different that confirmed"
            )
        self.trigger_event(
            self.ProcessingStarted,
            actor=actor,
            holder=None,
            expires_at=None,
            with_confirmation=False,
        )

    def claim(
        self,
        holder: str,
        now: datetime,
        seconds: float,
        *,
        with_confirmation: bool = False,
    ) -> None:
        """Start processing a confirmed job under `holder`'s lease, in one event.

        Of workers racing to claim, optimistic concurrency lets one win.
        `with_confirmation`: claimed in the write that confirms the job, by the
        worker that pre-processed it (`set_pre_processing_done_and_claim`).
        """
        if self.status is not BatchJobStatus.CONFIRMED:
            raise NotAllowedError(
                "Cannot mark a batch job as processing "
                "if the status is different that confirmed"
            )
        self.trigger_event(
            self.ProcessingStarted,
            actor=holder,
            holder=holder,
            expires_at=now + timedelta(seconds=seconds),
            with_confirmation=with_confirmation,
        )

    def complete(self, actor: str) -> None:
        if self.status is not BatchJobStatus.PROCESSING:
            raise InvalidDataError(
                f'Cannot complete a batch job with status "{self.status}". '
                "The batch job must be processing"
            )
        self.trigger_event(self.Completed, actor=actor)

    def cancel(self, actor: str) -> None:
        if self.status is BatchJobStatus.COMPLETED:
            raise NotAllowedError("Cannot cancel completed batch job")
        self.trigger_event(self.Canceled, actor=actor)

    def set_failed(self, actor: str, error: Any = None) -> None:
        self.trigger_event(self.Failed, actor=actor, error=error)

    def retry(self, actor: str) -> BatchJob:
        """Run a failed job's work again as a new job, which is returned unsaved.

        Medusa's failed is final: this job stays failed and records the link
        (`batch.retried`). The new job has its type, creator and context as created
        (not what its strategy wrote since, such as `retry_count`), and names it in
        `retry_of`. It is processed without a confirm if this one had been
        confirmed; a dry run that failed before anyone confirmed it waits for a
        confirm again, so no preview is skipped.
        """
        if self.status is not BatchJobStatus.FAILED:
            raise NotAllowedError(
                f"Only failed batch jobs can be retried; this one is {self.status}"
            )
        retried = BatchJob.create(
            batch_type=self.type,
            created_by=self.created_by,
            context=self.created_context,
            dry_run=self.dry_run and self.confirmed_at is None,
            actor=actor,
            retry_of=self.id,
        )
        self.trigger_event(self.Retried, actor=actor, retry_id=retried.id)
        return retried

    # -- leases ----------------------------------------------------------------

    def lease_is_live(self, now: datetime) -> bool:
        return leases.is_live(self.lease_holder, self.lease_expires_at, now)

    def attempts_at(self, step: LeaseStep) -> int:
        return self.attempts.get(step.value, 0)

    def take_lease(
        self, holder: str, step: LeaseStep, now: datetime, seconds: float
    ) -> None:
        """Start `step` as `holder`; refused while another lease on the job is live.

        Only in the step's own status: a worker that read the job before another
        finished the step must not lease a step that is over.
        """
        if self.status is not STEP_STATUS[step]:
            raise NotAllowedError(
                f"Cannot lease a batch job's {step} when it is {self.status}"
            )
        if self.lease_is_live(now):
            raise LeaseHeldError(self.lease_holder, self.lease_expires_at)
        self.trigger_event(
            self.LeaseTaken,
            actor=holder,
            holder=holder,
            step=step.value,
            expires_at=now + timedelta(seconds=seconds),
        )

    def check_attempt(self, step: LeaseStep, attempt: int) -> None:
        """Refuse a write of `attempt` at `step` once a later attempt took the step over.

        The attempt count is the fencing token: a worker whose lease lapsed (paused,
        cut off) must not write to the job after another attempt took it over, even
        from the same process, whatever happened to the job since.
        """
        if self.attempts_at(step) != attempt:
            raise LeaseLostError(step, attempt, self.attempts_at(step))

    def check_strategy_write(self, step: LeaseStep, attempt: int) -> None:
        """check_attempt, and refuse once the job failed or completed meanwhile.

        A strategy's own writes (progress, results) all come before its step ends, so
        a job found failed (the reaper gave up on a lease that lapsed while its worker
        was paused or cut off) or completed takes none: the late attempt stands down.
        A canceled job still takes its strategy's clean-up (the cooperative cancel).
        """
        self.check_attempt(step, attempt)
        if self.status in (BatchJobStatus.FAILED, BatchJobStatus.COMPLETED):
            raise JobFinishedError(step, attempt, self.status)

    def renew_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Extend `holder`'s lease; False (and no event) if it is not theirs anymore."""
        if self.is_final or self.lease_holder != holder:
            return False
        expires_at = now + timedelta(seconds=seconds)
        self.trigger_event(self.LeaseRenewed, actor=holder, expires_at=expires_at)
        return True

    def release_lease(self, holder: str, take_by: datetime) -> None:
        """Let go for a retry: the next worker must take the job by `take_by`."""
        if self.is_final or self.lease_holder != holder:
            return
        self.trigger_event(self.LeaseReleased, actor=holder, expires_at=take_by)

    def record_retry(
        self, holder: str, message: str, retry_count: int, take_by: datetime
    ) -> None:
        """Medusa's handleProcessingError for a retry: count it, keep its message.

        The lease is released in the same save: the retry may run on any worker, and
        one must take it up by `take_by`, or the reaper fails the job.
        """
        errors = [*(self.result or {}).get("errors", []), message]
        self.update(
            holder, context={"retry_count": retry_count}, result={"errors": errors}
        )
        self.release_lease(holder, take_by)

    def fail_step(
        self,
        actor: str,
        message: str,
        working_on: BatchJobStatus,
        further_errors: Iterable[Any] = (),
    ) -> bool:
        """Fail the step that worked on `working_on`; False if the job moved on.

        Canceled meanwhile, it stays canceled (Medusa turns it failed by accident);
        moved past `working_on`, another worker did this step. `further_errors` (an
        import's bad rows) follow the message in `result.errors`.
        """
        if self.status is not working_on:
            return False
        further = list(further_errors)
        if further:
            errors = [*(self.result or {}).get("errors", []), message, *further]
            self.update(actor, result={"errors": errors})
            self.set_failed(actor)
        else:
            self.set_failed(actor, message)
        return True

    def fail_if_abandoned(self, actor: str, now: datetime, grace: float) -> bool:
        """The reaper's rule: a lease expired `grace` ago and never taken up again."""
        if self.is_final or self.lease_expires_at is None:
            return False
        if not leases.is_abandoned(self.lease_expires_at, now, grace):
            return False
        message = leases.abandoned_message(
            self.lease_holder, self.lease_step or "work", self.lease_expires_at, grace
        )
        self.set_failed(actor, message)
        return True


STEP_STATUS = {
    LeaseStep.PRE_PROCESSING: BatchJobStatus.CREATED,
    LeaseStep.PROCESSING: BatchJobStatus.PROCESSING,
}


class LeaseLostError(Exception):
    """A later attempt took the step over: this attempt stands down, writing nothing."""

    def __init__(self, step: LeaseStep, attempt: int, latest: int) -> None:
        super().__init__(f"{step} attempt {attempt} was taken over by attempt {latest}")
        self.step, self.attempt, self.latest = step, attempt, latest


class JobFinishedError(LeaseLostError):
    """The job failed or completed while this attempt still ran: it stands down."""

    def __init__(self, step: LeaseStep, attempt: int, status: BatchJobStatus) -> None:
        Exception.__init__(self, f"{step} attempt {attempt} found the job {status}")
        self.step, self.attempt, self.latest = step, attempt, attempt


class LeaseHeldError(NotAllowedError):
    """Another worker holds the job's lease and has renewed it in time."""

    def __init__(self, holder: str | None, expires_at: datetime | None) -> None:
        super().__init__(f"The batch job is leased to {holder} until {expires_at}")
        self.expires_at = expires_at


def lease_taken(
    aggregate: BatchJob,
    holder: str,
    step: str,
    acquired_at: datetime,
    expires_at: datetime,
) -> None:
    """`holder` started another attempt of `step`, leased until `expires_at`."""
    attempts = dict(aggregate.attempts)
    attempts[step] = attempts.get(step, 0) + 1
    aggregate.attempts = attempts
    aggregate.lease_holder = holder
    aggregate.lease_step = step
    aggregate.lease_acquired_at = acquired_at
    aggregate.lease_expires_at = expires_at


def clear_lease(aggregate: BatchJob) -> None:
    """A step ended: no worker holds the job (the attempt counts stay)."""
    aggregate.lease_holder = None
    aggregate.lease_step = None
    aggregate.lease_acquired_at = None
    aggregate.lease_expires_at = None


EVENT_CLASSES: tuple[type[BatchJob.Event], ...] = (
    BatchJob.Created,
    BatchJob.Updated,
    BatchJob.PreProcessed,
    BatchJob.Confirmed,
    BatchJob.ProcessingStarted,
    BatchJob.Completed,
    BatchJob.Canceled,
    BatchJob.Failed,
    BatchJob.Retried,
    BatchJob.LeaseTaken,
    BatchJob.LeaseRenewed,
    BatchJob.LeaseReleased,
)
