"""/admin/jobstream/jobs: every user's jobs for admins, with counts, details and history."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from domain.attempt_history import attempts_of
from domain.batch_jobs import BatchJob
from domain.errors import DomainError, InvalidDataError
from domain.users import User
from projections.batch_jobs.document import iso
from service.api_services.operator import OperatorService
from service.audit import history
from service.http import openapi, qs
from service.http.errors import domain_error
from service.http.history import EventHistoryResponse
from service.http.operator.params import (
    LIST_PARAMETERS,
    OtherCreatorError,
    job_list_request,
)
from service.http.operator.schemas import (
    AttemptResponse,
    JobDetailResponse,
    JobListResponse,
    JobStateResponse,
    LeaseResponse,
)
from service.http.rendering import render_batch_job
from service.http.schemas import ErrorResponse

FORBIDDEN = ResponseSpec(
    ErrorResponse,
    description="`not_allowed`: a member or developer asked for another user's jobs",
    generate_examples=False,
)


def forbidden(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    """Medusa's error body, with 403: the filter asked for more than the role sees."""
    response = domain_error(request, exc)
    response.status_code = 403
    return response


def _query_string(request: Request[Any, Any, Any]) -> str:
    return bytes(request.scope.get("query_string", b"")).decode("utf-8", "replace")


def _lease(job: BatchJob) -> LeaseResponse | None:
    """The worker holding the job now; None between steps, when final or released."""
    if job.lease_holder is None or job.lease_step is None:
        return None
    return LeaseResponse(
        holder=job.lease_holder,
        expires_at=iso(job.lease_expires_at) or "",
        attempt=job.attempts.get(job.lease_step, 0),
        step=job.lease_step,
    )


def _attempts(events: list[BatchJob.Event]) -> list[AttemptResponse]:
    return [
        AttemptResponse(
            step=run.step,
            attempt=run.attempt,
            error=run.error,
            at=iso(run.at) or "",
            holder=run.holder,
        )
        for run in attempts_of(events)
    ]


def _version(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise InvalidDataError(
            "version must be a whole number: the event to show the job after"
        ) from None


class OperatorJobsController(Controller):
    path = "/admin/jobstream/jobs"
    tags = ["Operator: jobs"]
    security = openapi.LOGGED_IN
    exception_handlers = {OtherCreatorError: forbidden}

    # eventsourcing and the views are synchronous: handlers run in the thread pool.
    @get(
        sync_to_thread=True,
        operation_id="GetJobstreamJobs",
        operation_class=openapi.documented(LIST_PARAMETERS),
        responses={**openapi.errors(400, 401, 503), 403: FORBIDDEN},
    )
    def list_jobs(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
    ) -> Response[JobListResponse]:
        """Jobs by status, type, creator and dates, with the count of each status.

        Admins see every user's jobs (all, or one creator's with `created_by`);
        members and developers see their own. `status_counts` counts the jobs
        matching every filter but `status`.
        """
        listing = job_list_request(qs.parse(_query_string(request)), caller)
        page = operator.list_jobs(listing.query, caller.id)
        counts = {status.value: n for status, n in page.status_counts.items()}
        # The page is spliced from the JSON the view stores for each job.
        body = (
            f'{{"jobs":[{",".join(page.documents)}],'
            f'"count":{page.count(listing.query.statuses)},'
            f'"limit":{listing.limit},"offset":{listing.offset},'
            f'"status_counts":{msgspec.json.encode(counts).decode()}}}'
        )
        response = Response(body.encode(), media_type=MediaType.JSON)
        return cast("Response[JobListResponse]", response)

    @get(
        "/{job_id:str}",
        sync_to_thread=True,
        operation_id="GetJobstreamJobsJob",
        responses=openapi.errors(400, 401, 404),
    )
    def get_job(
        self,
        job_id: FromPath[str],
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
    ) -> JobDetailResponse:
        """A job as stored now, the lease on it and every run of each step."""
        job, events = operator.details(job_id, caller)
        return JobDetailResponse(
            batch_job=render_batch_job(job),
            lease=_lease(job),
            attempts=_attempts(events),
            retry_of=job.retry_of,
            retries=list(job.retries),
        )

    @get(
        "/{job_id:str}/events",
        sync_to_thread=True,
        operation_id="GetJobstreamJobsJobEvents",
        responses=openapi.errors(400, 401, 404),
    )
    def job_events(
        self,
        job_id: FromPath[str],
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
    ) -> EventHistoryResponse:
        """Every event of a job, oldest first (as /admin/batch-jobs/{id}/events)."""
        events = operator.events_of(job_id, caller)
        return EventHistoryResponse([history.describe(event) for event in events])

    @get(
        "/{job_id:str}/state",
        sync_to_thread=True,
        operation_id="GetJobstreamJobsJobState",
        responses=openapi.errors(400, 401, 404),
    )
    def job_state(
        self,
        job_id: FromPath[str],
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
        version: FromQuery[str | None] = None,
    ) -> JobStateResponse:
        """The job as it stood after its event `version` (`jobstream state --version`)."""
        number = _version(version)
        state = operator.state_at(job_id, number, caller)
        return JobStateResponse(version=number, batch_job=state)
