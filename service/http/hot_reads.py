"""The two hot reads answered ahead of Litestar's handler machinery, when plain.

GET /admin/batch-jobs/{id} and the list are most of the API's traffic (the admin UI
polls them), and Litestar's dependencies, signature model and response handling are
most of such a GET's cost. Litestar runs the app's middleware after its router (on
the route it found), so the front door sees the route's template and path
parameters; it hands the request here first. When the request is the plain case
(a GET with no body and no Origin, a caller known from memory, a read model already
current, and, for one job, the caller's own), the lane answers it with the
handler's own code (job_reads); anything else goes on to Litestar untouched, which
answers it, errors included, exactly as without the lane. The lane never answers
an error itself.

It answers only where `read_path.readable_now` says a read may run inline, which
is never on PostgreSQL; so the database-cut guard behind the front door still
sees every request that touches the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request

from service.http import job_reads, read_path
from service.http.dependencies import services_of
from service.http.identity import authenticate_from_memory

if TYPE_CHECKING:
    from litestar.response.base import ASGIResponse
    from litestar.types import HTTPScope, Receive, Send

    from domain.users import User
    from service.api_services.batch_jobs import BatchJobsService

# The templates Litestar's router sets in scope["path_template"] for the two routes.
LIST_TEMPLATE = "/admin/batch-jobs"
JOB_TEMPLATE = "/admin/batch-jobs/{job_id}"
# A body, or a browser's cross-origin request (CORS headers): Litestar's business.
_NOT_PLAIN = frozenset({b"origin", b"content-length", b"transfer-encoding"})


async def answer(scope: HTTPScope, receive: Receive, send: Send) -> bool:
    """Answer a plain hot read and return True; else False, leaving it to Litestar."""
    template = scope.get("path_template")
    if (
        template not in {LIST_TEMPLATE, JOB_TEMPLATE}
        or scope["method"] != "GET"
        or any(name in _NOT_PLAIN for name, _ in scope["headers"])
    ):
        return False
    services = services_of(scope["app"].state)
    caller = authenticate_from_memory(Request(scope), services.auth)
    if caller is None or not read_path.readable_now(services.jobs, caller.id):
        return False
    response = _read(services.jobs, scope, caller)
    if response is None:
        return False
    await response(scope, receive, send)
    return True


def _read(
    jobs: BatchJobsService, scope: HTTPScope, caller: User
) -> ASGIResponse | None:
    """The handler's answer; None for anything but a plain success."""
    try:
        if scope["path_template"] == LIST_TEMPLATE:
            listing = job_reads.list_request(scope, caller)
            return job_reads.job_list(jobs, listing, caller)
        if scope["query_string"]:
            return None
        job_id = scope["path_params"]["job_id"]
        return job_reads.job_document(jobs, job_id, caller)
    except Exception:  # noqa: BLE001 - a 400, 404, 403 or worse: Litestar answers it
        return None
