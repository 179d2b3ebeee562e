"""Cookie-authenticated writes only from the admin UIs' origins (JOBSTREAM_ADMIN_CORS)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from litestar import MediaType, Request
from litestar.enums import ScopeType
from litestar.response.base import ASGIResponse

from service.http.identity import API_TOKEN_HEADER, SESSION_COOKIE
from service.http.schemas import ErrorResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.config.cors import CORSConfig
    from litestar.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger("http")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED_STATUS = 403
REFUSED = ErrorResponse(
    type="not_allowed",
    message="Cookie-authenticated requests that change data are only accepted "
    "from the admin origins (JOBSTREAM_ADMIN_CORS)",
)


def _own_origin(request: Request[Any, Any, Any]) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def cross_site_write(request: Request[Any, Any, Any], cors: CORSConfig) -> str | None:
    """The foreign Origin of a write that a browser sent with the session cookie.

    Bearer and API-token requests cannot be forged by another site (their headers
    need a CORS preflight), and a request without Origin did not come from a page.
    Any other `Authorization` (Basic, Negotiate) a browser attaches by itself, for a
    proxy that asked for it: the session cookie still decides who calls.
    """
    origin = request.headers.get("origin")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if (
        request.method in SAFE_METHODS
        or origin is None
        or SESSION_COOKIE not in request.cookies
        or (scheme.lower() == "bearer" and token.strip())
        or API_TOKEN_HEADER in request.headers
    ):
        return None
    if cors.is_origin_allowed(origin) or origin == _own_origin(request):
        return None
    return origin


def origin_guard(cors: CORSConfig) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: 403 `not_allowed` for a cookie-authenticated write from elsewhere."""
    body = msgspec.json.encode(REFUSED)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            # Reads never change data: they skip building a Request (the hot path).
            if scope["type"] == ScopeType.HTTP and scope["method"] not in SAFE_METHODS:
                origin = cross_site_write(Request(scope), cors)
                if origin is not None:
                    log.warning("http.cross_site_write_refused", origin=origin[:200])
                    refusal = ASGIResponse(
                        body=body, status_code=REFUSED_STATUS, media_type=MediaType.JSON
                    )
                    await refusal(scope, receive, send)
                    return
            await app(scope, receive, send)

        return middleware

    return wrap
