"""ASGI middleware: a URL whose path or query string holds a NUL character is a 400.

Every handler reads the path and the query through here first, so no NUL reaches a
query on PostgreSQL (which cannot hold one) or an event (see input_checks).
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from service.http.input_checks import NUL, nul_message
from service.http.schemas import ErrorResponse

log = structlog.get_logger("http")


def nul_in_url(path: str, query: bytes) -> str | None:
    """Where the decoded path or query holds a NUL, as an error message; else None."""
    if NUL in path:
        return nul_message("The URL path")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for part in query.decode("latin-1").split("&"):
        raw_key, _, raw_value = part.partition("=")
        key = unquote_plus(raw_key, errors="replace")
        if NUL in key:
            return nul_message("A query parameter name")
        if NUL in unquote_plus(raw_value, errors="replace"):
            return nul_message(f"Query parameter {key}")
    return None


def refuse_nul_in_url(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            message = nul_in_url(scope["path"], scope.get("query_string", b""))
            if message is not None:
                log.info("http.nul_in_url", path=repr(scope["path"])[:200])
                await _send_400(send, message)
                return
        await app(scope, receive, send)

    return middleware


async def _send_400(send: Send, message: str) -> None:
    body = msgspec.json.encode(ErrorResponse(type="invalid_data", message=message))
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start", "status": 400, "headers": headers,
    }  # fmt: skip
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
