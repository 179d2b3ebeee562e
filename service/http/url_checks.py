"""A URL whose path or query string holds a NUL character is a 400 (see front_door).

Every handler's path and query are checked here first, so no NUL reaches a
query on PostgreSQL (which cannot hold one) or an event (see input_checks).
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import msgspec
from litestar.types import HTTPResponseStartEvent, Send

from service.http.input_checks import NUL, nul_message
from service.http.schemas import ErrorResponse


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


async def send_400(send: Send, message: str) -> None:
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
