"""What the operator API's job endpoints use: every user's jobs, by role, and their audit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from eventsourcing.application import project_aggregate

from domain import job_access
from domain.batch_jobs import BatchJob
from domain.errors import BatchJobNotFoundError, InvalidDataError
from service.audit import history

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.users import User
    from projections.batch_jobs.query import BatchJobQuery
    from projections.batch_jobs.view import BatchJobsView, StatusPage
    from service.application import Jobstream
    from service.files.storage import FileReader, FileStorage


class OperatorService(ABC):  # an ABC: see BatchJobsService
    @abstractmethod
    def list_jobs(self, query: BatchJobQuery, caller_id: str) -> StatusPage:
        """A page of stored Medusa JSON and the counts per status, once caught up.

        Caught up: every event stored so far as this process knows, and every
        write of the caller's, wherever it was made.
        """

    @abstractmethod
    def job(self, job_id: str, caller: User) -> BatchJob:
        """The job as stored now; 404 if none, 400 not_allowed if not the caller's."""

    @abstractmethod
    def details(
        self, job_id: str, caller: User
    ) -> tuple[BatchJob, list[BatchJob.Event]]:
        """The job as stored now and its events, from one read of the store."""

    @abstractmethod
    def events_of(self, job_id: str, caller: User) -> list[BatchJob.Event]:
        """The job's events, oldest first, with the job's access rule."""

    @abstractmethod
    def state_at(self, job_id: str, version: int, caller: User) -> dict[str, Any]:
        """The job's Medusa fields as they stood after event `version`."""

    @abstractmethod
    def cancel(self, job_id: str, caller: User) -> int:
        """Cancel one job (Medusa's rule); the position of the cancel's event."""

    @abstractmethod
    def settle(self, position: int) -> None:
        """After writes: wait until the caller's next read shows them."""

    @abstractmethod
    def open_file(self, key: str) -> tuple[int, FileReader]:
        """A stored file's size and a reader; StoredFileNotFoundError if none."""


class Operator(OperatorService):
    """Over the process's application, batch-jobs view, waits and file storage."""

    def __init__(
        self,
        app: Jobstream,
        view: BatchJobsView,
        files: FileStorage,
        *,
        settle: Callable[[int], None],
        catch_up: Callable[[str], None],
    ) -> None:
        self._app, self._view, self._files = app, view, files
        self._settle, self._catch_up = settle, catch_up

    def list_jobs(self, query: BatchJobQuery, caller_id: str) -> StatusPage:
        self._catch_up(caller_id)
        return self._view.list_documents_by_status(query)

    def job(self, job_id: str, caller: User) -> BatchJob:
        job = self._app.get_batch_job(job_id)
        job_access.ensure_may_act_on(job.created_by, caller)
        return job

    def details(
        self, job_id: str, caller: User
    ) -> tuple[BatchJob, list[BatchJob.Event]]:
        events = self.events_of(job_id, caller)
        job: object = project_aggregate(None, events)
        if not isinstance(job, BatchJob):  # events_of found its Created event: never
            raise BatchJobNotFoundError(job_id)
        return job, events

    def events_of(self, job_id: str, caller: User) -> list[BatchJob.Event]:
        events = history.events_of(self._app, job_id)
        first = events[0] if events else None
        if not isinstance(first, BatchJob.Created):
            raise BatchJobNotFoundError(job_id)
        job_access.ensure_may_act_on(first.created_by, caller)
        return [event for event in events if isinstance(event, BatchJob.Event)]

    def state_at(self, job_id: str, version: int, caller: User) -> dict[str, Any]:
        last = self.events_of(job_id, caller)[-1].originator_version
        if not 1 <= version <= last:
            raise InvalidDataError(
                f"version must be between 1 and {last}, the batch job's versions"
            )
        return history.state_at(self._app, job_id, version=version)

    def cancel(self, job_id: str, caller: User) -> int:
        def cancel(job: BatchJob) -> None:
            job_access.ensure_may_act_on(job.created_by, caller)
            job.cancel(caller.id)

        # The command Medusa's cancel runs (optimistic retries included), with the
        # operator API's access rule in place of the creator-only one.
        _, position = self._app.change_batch_job(job_id, cancel)
        return position

    def settle(self, position: int) -> None:
        self._settle(position)

    def open_file(self, key: str) -> tuple[int, FileReader]:
        return self._files.size(key), self._files.open_reader(key)
