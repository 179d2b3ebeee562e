"""What the batch-job endpoints use: the commands, the view, read-your-writes waits."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from domain.batch_jobs import BatchJob
    from domain.strategies import BatchJobDraft, BatchJobStrategy
    from projections.batch_jobs.query import BatchJobQuery
    from projections.batch_jobs.row import BatchJobRow
    from projections.batch_jobs.view import BatchJobsView
    from service.api_services.awaitable_reads import AwaitableDocuments
    from service.application import Jobstream
    from service.read_models.host import HostedReadModel
    from service.strategies.registry import StrategyRegistry


# An ABC, not a Protocol: Litestar checks each dependency value against its annotation
# on every request, and isinstance on a runtime-checkable Protocol is slow on 3.11.
class BatchJobsService(ABC):
    @abstractmethod
    def strategy(self, batch_type: str) -> BatchJobStrategy:
        """The strategy of `batch_type`; NotFound (Medusa's message) if none."""

    @abstractmethod
    def create(self, draft: BatchJobDraft, user_id: str) -> tuple[BatchJob, int]:
        """The new job and its event's position."""

    async def create_async(
        self, draft: BatchJobDraft, user_id: str
    ) -> tuple[BatchJob, int]:
        """`create` from the event loop, holding no thread while the save is written."""
        return await anyio.to_thread.run_sync(self.create, draft, user_id)

    @abstractmethod
    def confirm(self, job_id: str, user_id: str) -> tuple[BatchJob, int]: ...

    @abstractmethod
    def cancel(self, job_id: str, user_id: str) -> tuple[BatchJob, int]: ...

    @abstractmethod
    def settle(self, position: int, caller_id: str) -> None:
        """After a write by `caller_id`: make sure its next read shows it."""

    async def settle_async(self, position: int, caller_id: str) -> None:
        """`settle` from the event loop (here on a thread; BatchJobs awaits the view)."""
        await anyio.to_thread.run_sync(self.settle, position, caller_id)

    @abstractmethod
    def catch_up(self, caller_id: str | None) -> None:
        """Before a read by `caller_id`: wait until the view has what it must show.

        That is every write of the caller's (read-your-writes), or, where the
        callers' writes are not known or for None, every event stored so far.
        """

    def read_model_is_current(self, caller_id: str) -> bool:
        """Without waiting: True if the view has what `caller_id`'s read must show.

        Asked on the event loop; False when it cannot tell cheaply (then catch_up).
        """
        return False

    def read_model_position(self) -> int | None:
        """The view's position as known without I/O (never ahead of it); None: unknown."""
        return None

    def read_model_covers(self, known: int | None, last_write: int) -> bool:
        """A read that began with the view at `known` shows the caller's writes.

        `last_write`: the caller's record (AwaitableDocuments.get_document_for).
        """
        return False

    @property
    def awaitable_reads(self) -> AwaitableDocuments | None:
        """The hot reads as coroutines, where the view is across the network.

        On PostgreSQL the sync reads below are round trips: they never run on the
        event loop, these do. None where the view is local (embedded).
        """
        return None

    @abstractmethod
    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        """The job's creator and its stored Medusa JSON; None if there is no such job."""

    @abstractmethod
    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        """One page of stored Medusa JSON, and the count of all matching jobs."""

    @abstractmethod
    def list_batch_jobs(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        """One page of rows, and the count of all matching jobs."""


class BatchJobs(BatchJobsService):
    """Over the process's application, batch-jobs view and read-your-writes waits."""

    def __init__(  # noqa: PLR0913 - wiring; the waits by name
        self,
        app: Jobstream,
        view: BatchJobsView,
        registry: StrategyRegistry,
        *,
        settle: Callable[[int, str], None],
        catch_up: Callable[[str | None], None],
        hosted: HostedReadModel[Any] | None = None,
        settle_async: Callable[[int, str], Awaitable[None]] | None = None,
        awaitable_reads: AwaitableDocuments | None = None,
    ) -> None:
        self._app, self._view, self._registry = app, view, registry
        self._settle, self._catch_up = settle, catch_up
        self._hosted = hosted
        self._settle_async = settle_async
        self._awaitable_reads = awaitable_reads

    def strategy(self, batch_type: str) -> BatchJobStrategy:
        return self._registry.get(batch_type)

    def create(self, draft: BatchJobDraft, user_id: str) -> tuple[BatchJob, int]:
        return self._app.create_batch_job(draft, user_id)

    async def create_async(
        self, draft: BatchJobDraft, user_id: str
    ) -> tuple[BatchJob, int]:
        return await self._app.create_batch_job_async(draft, user_id)

    def confirm(self, job_id: str, user_id: str) -> tuple[BatchJob, int]:
        return self._app.confirm_batch_job(job_id, user_id)

    def cancel(self, job_id: str, user_id: str) -> tuple[BatchJob, int]:
        return self._app.cancel_batch_job(job_id, user_id)

    def settle(self, position: int, caller_id: str) -> None:
        self._settle(position, caller_id)

    async def settle_async(self, position: int, caller_id: str) -> None:
        if self._settle_async is None:
            await super().settle_async(position, caller_id)
        else:
            await self._settle_async(position, caller_id)

    def catch_up(self, caller_id: str | None) -> None:
        self._catch_up(caller_id)

    def read_model_is_current(self, caller_id: str) -> bool:
        return self._hosted is not None and self._hosted.is_current(caller_id)

    def read_model_position(self) -> int | None:
        return None if self._hosted is None else self._hosted.known_position()

    def read_model_covers(self, known: int | None, last_write: int) -> bool:
        return self._hosted is not None and self._hosted.covers(known, last_write)

    @property
    def awaitable_reads(self) -> AwaitableDocuments | None:
        return self._awaitable_reads

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return self._view.get_document(job_id)

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        return self._view.list_documents(query)

    def list_batch_jobs(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        return self._view.list_batch_jobs(query)
