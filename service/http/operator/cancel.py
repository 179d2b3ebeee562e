"""POST /admin/jobstream/jobs/cancel: cancel several jobs, each answered on its own."""

from __future__ import annotations

from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from domain.errors import DomainError, InvalidDataError
from domain.users import User
from service.api_services.operator import OperatorService
from service.http import openapi
from service.http.errors import CONFLICT_MESSAGE
from service.http.medusa_body import MedusaBody, MedusaBodyDTO
from service.http.operator.schemas import (
    MAX_CANCEL_IDS,
    CancelJobsError,
    CancelJobsRequest,
    CancelJobsResponse,
)

log = structlog.get_logger("http")
MAX_IDS = MAX_CANCEL_IDS
# A request without a JSON body decodes as `{}` (MedusaBody.empty): no ids.
EMPTY_CANCEL = MedusaBody.empty(CancelJobsRequest)
IDS_MESSAGE = f"ids must be an array of 1 to {MAX_IDS} batch job ids (strings)"


def cancel_ids(body: dict[str, Any]) -> list[str]:
    """The body's ids, each once, in order; InvalidDataError if the body is not one."""
    unknown = [f"property {key} should not exist" for key in body if key != "ids"]
    ids = body.get("ids")
    valid = (
        isinstance(ids, list)
        and 1 <= len(ids) <= MAX_IDS
        and all(isinstance(i, str) and i for i in ids)
    )
    if unknown or not valid:
        raise InvalidDataError(", ".join([*unknown, *([] if valid else [IDS_MESSAGE])]))
    return list(dict.fromkeys(ids))  # type: ignore[arg-type]


def cancel_each(
    operator: OperatorService, job_ids: list[str], caller: User
) -> CancelJobsResponse:
    """Each job's own cancel; then one wait until the read model shows them all."""
    canceled: list[str] = []
    refused: list[CancelJobsError] = []
    last = 0
    for job_id in job_ids:
        try:
            last = max(last, operator.cancel(job_id, caller))
        except DomainError as error:
            refused.append(
                CancelJobsError(id=job_id, type=error.type, message=error.message)
            )
        except IntegrityError:  # other writers kept winning the race to the job
            refused.append(
                CancelJobsError(id=job_id, type="conflict", message=CONFLICT_MESSAGE)
            )
        else:
            canceled.append(job_id)
    if canceled:
        operator.settle(last)  # the caller's next GET/list shows every cancel
    log.info("operator.jobs_canceled", canceled=len(canceled), refused=len(refused))
    return CancelJobsResponse(canceled=canceled, errors=refused)


class BulkCancelController(Controller):
    path = "/admin/jobstream/jobs/cancel"
    tags = ["Operator: jobs"]
    security = openapi.LOGGED_IN

    @post(
        status_code=200,
        sync_to_thread=True,
        operation_id="PostJobstreamJobsCancel",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401),
    )
    def cancel_jobs(
        self,
        *,
        data: JSONBody[MedusaBody[CancelJobsRequest]] = EMPTY_CANCEL,
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
    ) -> CancelJobsResponse:
        """Cancel each job as its own cancel would; one job's refusal stops no other.

        Admins may cancel any user's job; members and developers their own. Each
        refusal carries Medusa's error type and message for that job.
        """
        return cancel_each(operator, data.decode(cancel_ids), caller)
