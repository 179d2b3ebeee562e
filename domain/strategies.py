"""The batch-job strategy interface, mirroring Medusa's AbstractBatchJobStrategy."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from domain.batch_jobs import BatchJob, BatchJobStatus


@dataclass(frozen=True)
class BatchJobDraft:
    """Medusa's CreateBatchJobInput: what a create request asks for."""

    type: str
    context: dict[str, Any]
    dry_run: bool = False


@dataclass(frozen=True)
class BatchJobSnapshot:
    """What a strategy may read of its job: a copy, never the aggregate itself."""

    id: str
    type: str
    created_by: str | None
    context: dict[str, Any]
    result: dict[str, Any] | None
    dry_run: bool
    status: BatchJobStatus
    version: int = field(compare=False, default=0)

    @classmethod
    def of(cls, job: BatchJob) -> BatchJobSnapshot:
        return cls(
            id=job.id,
            type=job.type,
            created_by=job.created_by,
            context=dict(job.context),
            result=None if job.result is None else dict(job.result),
            dry_run=job.dry_run,
            status=job.status,
            version=job.version,
        )


class JobRun(Protocol):
    """A strategy's handle on the job it works on; writes become batch.updated events."""

    @property
    def job_id(self) -> str: ...

    def job(self) -> BatchJobSnapshot:
        """The job as stored now (sees a cancel that happened meanwhile)."""
        ...

    def is_canceled(self) -> bool:
        """Cheap: whether a cancel of this job arrived on the event stream."""
        ...

    def update(
        self,
        *,
        result: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        unset_result: Iterable[str] = (),
        unset_context: Iterable[str] = (),
    ) -> BatchJobSnapshot:
        """Shallow-merge into `result`/`context`; return the job after the write."""
        ...


class BatchJobStrategy(Protocol):
    """One batch type's behaviour. Registered by `batch_type`."""

    batch_type: ClassVar[str]
    identifier: ClassVar[str]

    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        """Runs inside the create request; may rewrite the context."""
        ...

    def pre_process_batch_job(self, run: JobRun) -> None:
        """On batch.created: inspect the input, fill `result` for a preview."""
        ...

    def process_job(self, run: JobRun) -> None:
        """On batch.confirmed: do the work."""
        ...

    def build_template(self) -> str: ...

    def should_retry_on_processing_error(
        self, job: BatchJobSnapshot, error: Exception
    ) -> bool: ...

    def handle_processing_error(self, run: JobRun, error: Exception) -> None:
        """Clean up after a failed attempt (partial files, ...) before it is recorded."""
        ...

    def handle_canceled_processing(self, run: JobRun) -> None:
        """The job was canceled before its completion was saved: take back its output.

        The cancel won, so nothing `process_job` made visible (a file, a result key)
        may outlive it.
        """
        ...


PrepareMethod = TypeVar("PrepareMethod", bound=Callable[..., BatchJobDraft])
WITHOUT_IO = "__prepares_without_io__"


def prepares_without_io(method: PrepareMethod) -> PrepareMethod:
    """Mark a `prepare_batch_job_for_processing` that only computes (no I/O, no wait).

    The API then runs it on its event loop rather than on a thread. A subclass that
    overrides the method is not marked unless it says so itself.
    """
    setattr(method, WITHOUT_IO, True)
    return method


def prepare_is_without_io(strategy: object) -> bool:
    """Whether the strategy's prepare is marked with `prepares_without_io`."""
    method = getattr(type(strategy), "prepare_batch_job_for_processing", None)
    return bool(getattr(method, WITHOUT_IO, False))


class AbstractBatchJobStrategy(ABC):
    """Medusa's defaults: pass-through prepare, no pre-processing, no retry."""

    batch_type: ClassVar[str]
    identifier: ClassVar[str]

    @prepares_without_io
    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        return draft

    def pre_process_batch_job(self, run: JobRun) -> None:
        return None

    @abstractmethod
    def process_job(self, run: JobRun) -> None: ...

    def build_template(self) -> str:
        return ""

    def should_retry_on_processing_error(
        self, job: BatchJobSnapshot, error: Exception
    ) -> bool:
        return False

    def handle_processing_error(self, run: JobRun, error: Exception) -> None:
        return None

    def handle_canceled_processing(self, run: JobRun) -> None:
        return None
