"""A plain create answered ahead of Litestar's handler machinery (embedded).

POST /admin/batch-jobs is the API's write under load, and Litestar's middleware,
router, DTO, signature model and dependencies were about half of its CPU in the
processes serving it; the create itself (validation, the strategy's prepare, the
group commit) a fifth. The app (service.http.app.JobstreamApp) hands such a POST
here first, as it hands the hot reads to service.http.hot_reads.

The lane answers only the plain success: a JSON body of known length within
MAX_BODY, a caller known from memory by token (no session cookie, no Origin: no
CORS or cross-site question), tracing off, and a body that the handler's own
validation and a strategy's prepare without I/O accept. For anything else it has
written nothing, and the request goes on to Litestar, with the body it read handed
on unchanged (`replaying`), which answers it exactly as without the lane, errors
included. Once the job is saved the lane answers as the handler does (201 and the
job); a save that fails is answered by the app's own exception handlers.

On PostgreSQL the lane keeps to the database-cut guard as the middleware does
(service.http.database_cut.CutGuard, the app's own): while the gate says the
database is down it declines, so the guard behind the front door answers 503, and
a create it takes is watched while it saves, so a cut answers it 503 in time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from litestar import MediaType, Request
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json

from domain.strategies import prepare_is_without_io
from projections.batch_jobs.document import ALL_FIELDS
from service import tracing
from service.http.dependencies import services_of
from service.http.errors import EXCEPTION_HANDLERS
from service.http.identity import authenticate_from_memory
from service.http.json_request import is_json
from service.http.medusa_body import MedusaBody
from service.http.rendering import render_batch_job
from service.http.requests import validate_create_batch_job
from service.http.schemas import BatchJobResponse, CreateBatchJobRequest

if TYPE_CHECKING:
    from litestar.types import HTTPScope, Receive, ReceiveMessage, Send

    from domain.strategies import BatchJobDraft
    from domain.users import User
    from service.api_services.assembly import ApiServices
    from service.api_services.batch_jobs import BatchJobsService
    from service.http.database_cut import CutGuard

log = structlog.get_logger("http")

PATH = "/admin/batch-jobs"
MAX_BODY = 64 * 1024  # bytes: a create's body is a type, a context and a flag
# Headers that make a request Litestar's: a browser's (CORS, the session cookie,
# cross-site checks), or a body of unknown length.
_NOT_PLAIN = frozenset(
    {b"origin", b"cookie", b"transfer-encoding", b"expect", b"traceparent"}
)


def takes(scope: HTTPScope) -> bool:
    """Whether the lane may look at this request at all (no I/O, no body read)."""
    return (
        scope["method"] == "POST"
        and scope["path"] == PATH
        and not scope.get("query_string")
        and not tracing.enabled
    )


async def answer(scope: HTTPScope, receive: Receive, send: Send) -> Receive | None:
    """None once answered; else the `receive` Litestar must use to answer it."""
    guard: CutGuard = scope["app"].state.cut_guard
    if guard.down():
        return receive  # the guard behind the front door answers it
    length = _plain_json_length(scope)
    services = services_of(scope["app"].state)
    caller = None if length is None else _caller(scope, services)
    if caller is None or length is None:
        return receive
    body, complete = await _read_body(receive, length)
    replay = replaying(body, receive)
    if not complete:
        return replay
    draft = _prepared(services.jobs, body, caller)
    if draft is None:
        return replay
    with guard.watching(scope, send) as exchange:
        reply = send if exchange is None else exchange.send
        try:
            job, position = await services.jobs.create_async(draft, caller.id)
            log.info("batch_job.created", job_id=job.id, batch_type=job.type)
            await services.jobs.settle_async(position, caller.id)
        except Exception as error:  # noqa: BLE001 - answered as the app answers it
            await _handled(error, scope)(scope, receive, reply)
            return None
        created = BatchJobResponse(render_batch_job(job, ALL_FIELDS))
        response = ASGIResponse(
            body=encode_json(created), status_code=201, media_type=MediaType.JSON
        )
        await response(scope, receive, reply)
    return None


def _caller(scope: HTTPScope, services: ApiServices) -> User | None:
    """The caller, known from memory, where the lane may answer; else None."""
    return authenticate_from_memory(Request(scope), services.auth)


def _plain_json_length(scope: HTTPScope) -> int | None:
    """The body's declared length if the request is the lane's kind; else None."""
    length: int | None = None
    json = False
    for name, value in scope["headers"]:
        if name in _NOT_PLAIN:
            return None
        if name == b"content-length":
            if not value.isdigit():
                return None
            length = int(value)
        elif name == b"content-type":
            json = is_json(value.decode("latin-1"))
    if not json or length is None or length > MAX_BODY:
        return None
    return length


async def _read_body(receive: Receive, length: int) -> tuple[bytes, bool]:
    """The body, and whether it came whole as declared (else Litestar decides)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False  # the client left: Litestar sees it
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > length:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), size == length


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` that first hands on the body the lane read, as one message."""
    given = False

    async def again() -> ReceiveMessage:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _prepared(
    jobs: BatchJobsService, body: bytes, caller: User
) -> BatchJobDraft | None:
    """The draft as the handler would save it; None for anything else."""
    try:
        draft = MedusaBody(body, CreateBatchJobRequest).decode(
            validate_create_batch_job
        )
        strategy = jobs.strategy(draft.type)
        if not prepare_is_without_io(strategy):
            return None  # its prepare runs on a thread, in the handler
        return strategy.prepare_batch_job_for_processing(draft, caller.id)
    except Exception:  # noqa: BLE001 - a 400 or 404: Litestar answers it
        return None


def _handled(error: Exception, scope: HTTPScope) -> ASGIResponse:
    """The app's exception handler's answer to `error`, as Litestar would give it."""
    request: Request = Request(scope)  # type: ignore[type-arg]
    for kind in type(error).__mro__:
        handler = EXCEPTION_HANDLERS.get(kind)
        if handler is not None:
            return handler(request, error).to_asgi_response(app=None, request=request)
    raise error
