"""The request id every response and log line carries (see front_door)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar.types import Message, Scope

REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 128  # characters of a caller's id that are kept
# Requests about one job: its id goes on every log line of the request.
JOB_PATH = re.compile(r"^/admin/batch-jobs/([^/]+)")


def incoming_id(scope: Scope) -> str:
    """The caller's `x-request-id` (cut to MAX_REQUEST_ID), or "" if it sent none.

    The last one wins if it sent several.
    """
    found = b""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:  # ASGI servers lower-case header names
            found = value
    return found.decode("latin-1")[:MAX_REQUEST_ID]


def with_header(start: Message, header: tuple[bytes, bytes]) -> Message:
    """`start` (http.response.start) with `header` added unless a handler set it."""
    headers: list[Any] = list(start.get("headers", []))  # type: ignore[call-overload]
    if all(name.lower() != header[0] for name, _ in headers):
        headers.append(header)
    return {**start, "headers": headers}  # type: ignore[return-value]
