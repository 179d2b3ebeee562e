"""A strategy's handle on its job, backed by the application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.strategies import BatchJobSnapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from domain.batch_jobs import BatchJob
    from service.application import Jobstream
    from service.strategies.cancellation import CancelSignals


class ApplicationJobRun:
    """Implements domain.strategies.JobRun: reads and writes go to the event store."""

    def __init__(
        self,
        app: Jobstream,
        job_id: str,
        actor: str,
        signals: CancelSignals | None = None,
        fence: Callable[[BatchJob], None] | None = None,
    ) -> None:
        self._app = app
        self._fence = fence  # raises LeaseLostError once another attempt took over
        self._job_id = job_id
        self._actor = actor
        self._signals = signals
        # The job as this run last saved it, so the processor's next write needs no read.
        self.latest: BatchJob | None = None

    @property
    def job_id(self) -> str:
        return self._job_id

    def job(self) -> BatchJobSnapshot:
        return BatchJobSnapshot.of(self._app.get_batch_job(self._job_id))

    def is_canceled(self) -> bool:
        return self._signals is not None and self._signals.is_canceled(self._job_id)

    def update(
        self,
        *,
        result: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        unset_result: Iterable[str] = (),
        unset_context: Iterable[str] = (),
    ) -> BatchJobSnapshot:
        try:
            job = self.latest = self._app.update_batch_job(
                self._job_id,
                self._actor,
                result=result,
                context=context,
                unset_result=unset_result,
                unset_context=unset_context,
                current=self.latest,  # a cancel meanwhile makes it stale: re-read, seen
                guard=self._fence,
            )
        except BaseException:
            self.forget_latest()
            raise
        return BatchJobSnapshot.of(job)

    def forget_latest(self) -> None:
        """After a failed save: the copy holds an event the store may not (re-read it).

        A save that fails on the way (the database cut) leaves its event applied to
        the copy but not stored, or stored without the caller knowing: a later write
        decided on that copy would skip or repeat a version, and state, of the job.
        """
        self.latest = None
