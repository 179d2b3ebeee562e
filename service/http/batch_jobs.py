"""/admin/batch-jobs: create, list, get, confirm, cancel (Medusa v1)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import structlog
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response.base import ASGIResponse

from domain.batch_jobs import BatchJob
from domain.errors import BatchJobNotFoundError
from domain.strategies import prepare_is_without_io
from domain.users import User
from projections.batch_jobs.document import ALL_FIELDS
from service import tracing
from service.api_services.batch_jobs import BatchJobsService
from service.http import job_reads, openapi
from service.http.medusa_body import MedusaBody, MedusaBodyDTO
from service.http.read_path import read_when_complete, read_when_current
from service.http.rendering import render_batch_job
from service.http.requests import validate_create_batch_job
from service.http.schemas import (
    BatchJobListResponse,
    BatchJobResponse,
    CreateBatchJobRequest,
)

log = structlog.get_logger("http")


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREATE_BATCH_JOB = MedusaBody.empty(CreateBatchJobRequest)


def _written(
    jobs: BatchJobsService,
    job: BatchJob,
    position: int,
    caller: User,
    fields: tuple[str, ...] = ALL_FIELDS,
) -> BatchJobResponse:
    jobs.settle(position, caller.id)  # the caller's next GET/list shows this write
    return BatchJobResponse(render_batch_job(job, fields))


def _create(
    data: MedusaBody[CreateBatchJobRequest], jobs: BatchJobsService, caller: User
) -> BatchJobResponse:
    draft = data.decode(validate_create_batch_job)
    strategy = jobs.strategy(draft.type)
    prepared = strategy.prepare_batch_job_for_processing(draft, caller.id)
    job, position = jobs.create(prepared, caller.id)
    log.info("batch_job.created", job_id=job.id, batch_type=job.type)
    # Medusa answers with the saved entity: every column, unset ones null.
    return _written(jobs, job, position, caller)


def _traced_create(
    request: Request[Any, Any, Any],
    data: MedusaBody[CreateBatchJobRequest],
    jobs: BatchJobsService,
    caller: User,
) -> BatchJobResponse:
    from service.tracing import spans  # noqa: PLC0415 - only when tracing

    # The job's trace starts here, or joins the caller's `traceparent`.
    with spans.http_create(request.headers) as span:
        created = _create(data, jobs, caller)
        job = created.batch_job
        spans.describe_job(span, job.id, str(job.type))
        span.set_attribute("http.response.status_code", 201)
        return created


class BatchJobController(Controller):
    path = "/admin/batch-jobs"
    tags = ["Batch Jobs"]
    security = openapi.LOGGED_IN

    # eventsourcing is synchronous: writes run in the thread pool. GET by id and the
    # list answer inline when the read model is current and local (read_path), and return
    # Litestar's ASGIResponse itself: its Response object costs a tenth of a GET.
    @get(
        operation_id="GetBatchJobs",
        operation_class=openapi.documented(openapi.LIST_PARAMETERS),
        responses={
            200: openapi.ok(BatchJobListResponse),
            **openapi.errors(400, 401, 503),
        },
    )
    async def list_batch_jobs(
        self,
        request: Request[Any, Any, Any],
        jobs: NamedDependency[BatchJobsService],
        caller: NamedDependency[User],
    ) -> ASGIResponse:
        """List the caller's batch jobs, newest first; Medusa's qs-style filters."""
        listing = job_reads.list_request(request.scope, caller)
        return await read_when_current(
            jobs, caller.id, lambda: job_reads.job_list(jobs, listing, caller)
        )

    @post(
        status_code=201,
        operation_id="PostBatchJobs",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401, 404),
    )
    async def create_batch_job(
        self,
        request: Request[Any, Any, Any],
        *,
        data: JSONBody[MedusaBody[CreateBatchJobRequest]] = EMPTY_CREATE_BATCH_JOB,
        jobs: NamedDependency[BatchJobsService],
        caller: NamedDependency[User],
    ) -> BatchJobResponse:
        """Create a batch job; its strategy may prepare the context first.

        On the event loop, holding no thread while the save is written (the group
        commit answers the loop): only a strategy's prepare that may do I/O, and a
        traced create, run on a thread.
        """
        if tracing.enabled:
            return await anyio.to_thread.run_sync(
                _traced_create, request, data, jobs, caller
            )
        draft = data.decode(validate_create_batch_job)
        strategy = jobs.strategy(draft.type)
        if prepare_is_without_io(strategy):
            prepared = strategy.prepare_batch_job_for_processing(draft, caller.id)
        else:
            prepared = await anyio.to_thread.run_sync(
                strategy.prepare_batch_job_for_processing, draft, caller.id
            )
        job, position = await jobs.create_async(prepared, caller.id)
        log.info("batch_job.created", job_id=job.id, batch_type=job.type)
        await jobs.settle_async(position, caller.id)
        return BatchJobResponse(render_batch_job(job, ALL_FIELDS))

    @get(
        "/{job_id:str}",
        operation_id="GetBatchJobsBatchJob",
        responses={
            200: openapi.ok(BatchJobResponse),
            **openapi.errors(400, 401, 404, 503),
        },
    )
    async def get_batch_job(
        self,
        job_id: FromPath[str],
        jobs: NamedDependency[BatchJobsService],
        caller: NamedDependency[User],
    ) -> ASGIResponse:
        """One batch job of the caller's, every field."""
        try:
            return await read_when_current(
                jobs, caller.id, lambda: job_reads.job_document(jobs, job_id, caller)
            )
        except BatchJobNotFoundError:
            # Never a 404 for a job stored and not yet projected.
            return await read_when_complete(
                jobs, lambda: job_reads.job_document(jobs, job_id, caller)
            )

    @post(
        "/{job_id:str}/confirm",
        status_code=200,
        sync_to_thread=True,
        operation_id="PostBatchJobsBatchJobConfirmProcessing",
        responses=openapi.errors(400, 401, 404, 409),
    )
    def confirm_batch_job(
        self,
        job_id: FromPath[str],
        jobs: NamedDependency[BatchJobsService],
        caller: NamedDependency[User],
    ) -> BatchJobResponse:
        """Confirm a pre-processed (dry-run) job so that it is processed."""
        job, position = jobs.confirm(job_id, caller.id)
        return _written(jobs, job, position, caller)

    @post(
        "/{job_id:str}/cancel",
        status_code=200,
        sync_to_thread=True,
        operation_id="PostBatchJobsBatchJobCancel",
        responses=openapi.errors(400, 401, 404, 409),
    )
    def cancel_batch_job(
        self,
        job_id: FromPath[str],
        jobs: NamedDependency[BatchJobsService],
        caller: NamedDependency[User],
    ) -> BatchJobResponse:
        """Cancel a job in any status but completed."""
        job, position = jobs.cancel(job_id, caller.id)
        return _written(jobs, job, position, caller)
