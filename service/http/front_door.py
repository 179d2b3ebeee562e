"""The one pure-ASGI layer every request passes: request id, NUL-free URL, origin guard.

Litestar runs it after its router, for the route found. Plain hot reads are taken
earlier, before Litestar's own middleware and router (`answer_before_routing`, called
by service.http.app.JobstreamApp), with the same request id, access log and metrics.

Three layers used to do this one after another, each a coroutine and a closure per
request; folded, a GET pays one. What each check decides lives in its own module
(`request_context`, `url_checks`, `origin_guard`); this module only orders them:
the request id first (so a refusal carries it and is logged), then the URL, then
cookie-authenticated writes from foreign origins.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

import msgspec
import structlog
from litestar import MediaType, Request
from litestar.enums import ScopeType
from litestar.response.base import ASGIResponse

from service.http import hot_create, origin_guard, request_context, url_checks
from service.http import hot_reads as hot_reads_lane
from service.metrics.instruments import record_request

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.config.cors import CORSConfig
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

log = structlog.get_logger("http")
_bind = structlog.contextvars.bind_contextvars
_clear = structlog.contextvars.clear_contextvars


def new_request_id() -> str:
    """32 hex digits, as `uuid4().hex`, without a system call or a UUID object.

    It names a request in the logs; nothing trusts it to be unguessable.
    """
    return f"{random.getrandbits(128):032x}"


def front_door(cors: CORSConfig) -> Callable[[ASGIApp], ASGIApp]:
    """The layer (plain hot reads were answered before it: answer_before_routing)."""
    refused = msgspec.json.encode(origin_guard.REFUSED)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            path = scope["path"]
            job = request_context.JOB_PATH.match(path)
            stamped = _IdStamped(scope, send, None if job is None else job.group(1))
            started = time.perf_counter()
            try:
                if not await _refused(scope, receive, stamped, cors, refused):
                    await app(scope, receive, stamped)
            finally:
                # The route's template, set by the router: a few label values, not ids.
                _logged(scope, scope.get("path_template", ""), stamped.status, started)

        return middleware

    return wrap


class _IdStamped:
    """`send` with the request id on the response's head; binds it to the logs.

    The id is the caller's `x-request-id`, or a new one. `status` is what the
    response's head said (500 until then).
    """

    __slots__ = ("_header", "_send", "status")

    def __init__(self, scope: HTTPScope, send: Send, job_id: str | None) -> None:
        request_id = request_context.incoming_id(scope) or new_request_id()
        _clear()
        if job_id is None:
            _bind(request_id=request_id)
        else:
            _bind(request_id=request_id, job_id=job_id)
        self._send = send
        self._header = (request_context.REQUEST_ID_HEADER, request_id.encode("latin-1"))
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message = request_context.with_header(message, self._header)
        await self._send(message)


def _logged(scope: HTTPScope, template: str, status: int, started: float) -> None:
    """The access log line and the request metrics; the log context ends here."""
    elapsed = time.perf_counter() - started
    method = scope["method"]
    record_request(method, template, status, elapsed)
    log.info(
        "http.request",
        method=method,
        path=scope["path"],
        status=status,
        duration_ms=round(elapsed * 1000, 2),
    )
    _clear()


async def answer_before_routing(scope: HTTPScope, receive: Receive, send: Send) -> bool:
    """A plain hot read answered ahead of Litestar's middleware and router; else False.

    Litestar's layers before the front door (its exception handler, CORS, the
    router) are a fifth to a quarter of a hot read's CPU and add nothing to a plain
    one: no Origin (so no CORS headers), no error to handle, a route matched here
    exactly. What the lane declines, or any other path, goes on through Litestar
    untouched, its front door included, as if this were not here.
    """
    if scope["method"] != "GET" or not routed_here(scope):
        return False
    if url_checks.nul_in_url(scope["path"], scope.get("query_string", b"")):
        return _unrouted(scope)  # the front door refuses it
    path_params = scope["path_params"]
    stamped = _IdStamped(scope, send, path_params.get("job_id"))
    started = time.perf_counter()
    try:
        answered = await hot_reads_lane.answer(scope, receive, stamped)
    except BaseException:
        _clear()
        raise
    if not answered:
        _clear()
        return _unrouted(scope)
    _logged(scope, scope["path_template"], stamped.status, started)
    return True


async def create_before_routing(
    scope: HTTPScope, receive: Receive, send: Send
) -> Receive | None:
    """A plain create answered ahead of Litestar (hot_create): None once answered.

    Else the `receive` Litestar must go on with (the body the lane read, handed on).
    """
    scope["path_template"] = hot_create.PATH
    scope["path_params"] = {}
    stamped = _IdStamped(scope, send, None)
    started = time.perf_counter()
    try:
        declined = await hot_create.answer(scope, receive, stamped)
    except BaseException:
        _clear()
        raise
    if declined is not None:
        _clear()
        _unrouted(scope)
        return declined
    _logged(scope, hot_create.PATH, stamped.status, started)
    return None


def routed_here(scope: HTTPScope) -> bool:
    """Route the two hot paths, exactly: their template and parameters in `scope`."""
    path = scope["path"]
    if path == hot_reads_lane.LIST_TEMPLATE:
        scope["path_template"] = hot_reads_lane.LIST_TEMPLATE
        scope["path_params"] = {}
        return True
    prefix = hot_reads_lane.LIST_TEMPLATE + "/"
    job_id = path[len(prefix) :] if path.startswith(prefix) else ""
    if not job_id or "/" in job_id:
        return False
    scope["path_template"] = hot_reads_lane.JOB_TEMPLATE
    scope["path_params"] = {"job_id": job_id}
    return True


def _unrouted(scope: HTTPScope) -> bool:
    """For Litestar's router, which routes it again (template and parameters): False."""
    scope["path_params"] = {}
    return False


async def _refused(
    scope: HTTPScope, receive: Receive, send: Send, cors: CORSConfig, refused: bytes
) -> bool:
    """Answer a NUL in the URL (400) or a cross-site cookie write (403); else False."""
    message = url_checks.nul_in_url(scope["path"], scope.get("query_string", b""))
    if message is not None:
        log.info("http.nul_in_url", path=repr(scope["path"])[:200])
        await url_checks.send_400(send, message)
        return True
    # Reads never change data: they skip building a Request (the hot path).
    if scope["method"] in origin_guard.SAFE_METHODS:
        return False
    origin = origin_guard.cross_site_write(Request(scope), cors)
    if origin is None:
        return False
    log.warning("http.cross_site_write_refused", origin=origin[:200])
    refusal = ASGIResponse(
        body=refused, status_code=origin_guard.REFUSED_STATUS, media_type=MediaType.JSON
    )
    await refusal(scope, receive, send)
    return True
