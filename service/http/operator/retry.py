"""POST /admin/jobstream/jobs/{id}/retry: a failed job's work, run again as a new job."""

from __future__ import annotations

import msgspec
import structlog
from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from domain.users import User
from service.api_services.retries import RetryService
from service.http import openapi
from service.http.dependencies import services_of
from service.http.rendering import render_batch_job
from service.http.schemas import BatchJobResponseItem

log = structlog.get_logger("http")


class RetryResponse(msgspec.Struct, frozen=True, kw_only=True):
    batch_job: BatchJobResponseItem  # the new job
    retry_of: str  # the failed job it retries


def provide_retries(state: State) -> RetryService:
    return services_of(state).retries


class RetryController(Controller):
    path = "/admin/jobstream/jobs"
    tags = ["Jobstream operator"]
    security = openapi.LOGGED_IN
    dependencies = {"retries": Provide(provide_retries, sync_to_thread=False)}

    @post(
        "/{job_id:str}/retry",
        status_code=201,
        sync_to_thread=True,
        operation_id="PostJobstreamJobsJobRetry",
        responses=openapi.errors(400, 401, 404),
    )
    def retry_batch_job(
        self,
        job_id: FromPath[str],
        retries: NamedDependency[RetryService],
        caller: NamedDependency[User],
    ) -> RetryResponse:
        """Run a failed job's work again, as a new job that names it in `retry_of`.

        The failed job stays failed (Medusa's status model) and records the retry
        in its history (`batch.retried`). Admins may retry any user's job, other
        roles their own; only a failed job can be retried (400 not_allowed).
        """
        job, position = retries.retry(job_id, caller)
        log.info("batch_job.retried", retry_id=job.id, batch_type=job.type)
        retries.settle(position)  # the caller's next GET shows both jobs
        return RetryResponse(batch_job=render_batch_job(job), retry_of=job_id)
