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

from service.http import hot_reads as hot_reads_lane
from service.http import origin_guard, request_context, url_checks
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


def front_door(
    cors: CORSConfig, *, hot_reads: bool = True
) -> Callable[[ASGIApp], ASGIApp]:
    """The layer; with `hot_reads`, plain hot reads are answered here (hot_reads)."""
    refused = msgspec.json.encode(origin_guard.REFUSED)
    lane = hot_reads_lane.answer if hot_reads else None

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = request_context.incoming_id(scope) or new_request_id()
            _clear()
            path = scope["path"]
            job = request_context.JOB_PATH.match(path)
            if job is None:
                _bind(request_id=request_id)
            else:
                _bind(request_id=request_id, job_id=job.group(1))
            status = 500
            started = time.perf_counter()
            id_header = (
                request_context.REQUEST_ID_HEADER,
                request_id.encode("latin-1"),
            )

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message = request_context.with_header(message, id_header)
                await send(message)

            try:
                if not (
                    await _refused(scope, receive, send_with_id, cors, refused)
                    or (lane is not None and await lane(scope, receive, send_with_id))
                ):
                    await app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                method = scope["method"]
                # The route's template, set by the router: a few label values, not ids.
                record_request(method, scope.get("path_template", ""), status, elapsed)
                log.info(
                    "http.request",
                    method=method,
                    path=path,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
                _clear()

        return middleware

    return wrap


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
    request_id = request_context.incoming_id(scope) or new_request_id()
    _clear()
    path_params = scope["path_params"]
    if path_params:
        _bind(request_id=request_id, job_id=path_params["job_id"])
    else:
        _bind(request_id=request_id)
    started = time.perf_counter()
    id_header = (request_context.REQUEST_ID_HEADER, request_id.encode("latin-1"))
    status = 500

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            message = request_context.with_header(message, id_header)
        await send(message)

    try:
        if not await hot_reads_lane.answer(scope, receive, send_with_id):
            _clear()
            return _unrouted(scope)
    except BaseException:
        _clear()
        raise
    elapsed = time.perf_counter() - started
    record_request("GET", scope["path_template"], status, elapsed)
    log.info(
        "http.request",
        method="GET",
        path=scope["path"],
        status=status,
        duration_ms=round(elapsed * 1000, 2),
    )
    _clear()
    return True


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
