"""The two hot reads answered ahead of Litestar's handler machinery, when plain.

GET /admin/batch-jobs/{id} and the list are most of the API's traffic (the admin UI
polls them), and Litestar's dependencies, signature model and response handling are
most of such a GET's cost; its middleware and router, another fifth. The app
(service.http.app.JobstreamApp) hands a GET of either path here before Litestar
sees it, routed exactly by front_door.answer_before_routing, which also gives it
the front door's request id, access log and metrics. When the request is the plain case
(a GET with no body and no Origin, a caller known from memory, a read model already
current, and, for one job, the caller's own), the lane answers it with the
handler's own code (job_reads); anything else goes on to Litestar untouched, which
answers it, errors included, exactly as without the lane. The lane never answers
an error itself.

It answers only where `read_path.readable_now` says the read model is current
(known without I/O). Embedded, it reads with the handler's own sync code; on
PostgreSQL it awaits the view's async twins (BatchJobsService.awaitable_reads)
and renders what they found with the handler's code. A read that fails, or that
the database gate gives up (service.api_services.awaitable_reads), has sent
nothing: the request goes on to Litestar, so the database-cut guard behind the
front door sees every request whose read fails, and answers it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from litestar import Request

from service.http import job_reads, read_path
from service.http.dependencies import services_of
from service.http.identity import authenticate_from_memory

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.response.base import ASGIResponse
    from litestar.types import HTTPScope, Receive, Send

    from domain.users import User
    from service.api_services.awaitable_reads import AwaitableDocuments
    from service.api_services.batch_jobs import BatchJobsService
    from service.http.list_params import ListRequest

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
    if caller is None:
        return False
    jobs = services.jobs
    awaitable = jobs.awaitable_reads
    if awaitable is None:
        if not read_path.readable_now(jobs, caller.id):
            return False
        response = _read(jobs, scope, caller)
    else:
        response = await _awaited_read(jobs, awaitable, scope, caller)
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


async def _awaited_read(
    jobs: BatchJobsService, reads: AwaitableDocuments, scope: HTTPScope, caller: User
) -> ASGIResponse | None:
    """As `_read`, fetched by `reads` (documents only: other lists go to Litestar).

    The caller's record is read with the documents; the view's position is taken
    before either is sent, so what they found is at least that current. If that
    does not cover the caller's last write, Litestar's path waits for it.
    """
    known = jobs.read_model_position()
    # Where the caller's writes are not recorded, the head decides, known beforehand.
    current = read_path.readable_now(jobs, caller.id)
    read: Awaitable[tuple[Any, int | None]]
    render: Callable[[Any], ASGIResponse]
    try:
        if scope["path_template"] == LIST_TEMPLATE:
            listing = job_reads.list_request(scope, caller)
            if not job_reads.lists_documents(listing):
                return None
            read = reads.list_documents_for(listing.query, caller.id)
            render = functools.partial(_listed, listing=listing)
        elif scope["query_string"]:
            return None
        else:
            job_id = scope["path_params"]["job_id"]
            read = reads.get_document_for(job_id, caller.id)
            render = functools.partial(
                job_reads.document_response, job_id=job_id, caller=caller
            )
        found, last_write = await read
        if not _covered(jobs, known, last_write, current=current):
            return None
        return render(found)
    except Exception:  # noqa: BLE001 - also the database down or cut: Litestar answers
        return None


def _listed(found: tuple[list[str], int], listing: ListRequest) -> ASGIResponse:
    documents, count = found
    return job_reads.documents_response(documents, count, listing)


def _covered(
    jobs: BatchJobsService,
    known: int | None,
    last_write: int | None,
    *,
    current: bool,
) -> bool:
    """The read shows the caller's writes (None: not recorded: `current` decides)."""
    if last_write is None:
        return current
    return jobs.read_model_covers(known, last_write)
