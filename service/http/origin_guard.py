"""Cookie-authenticated writes only from the admin UIs' origins (checked in front_door)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

from service.http.identity import API_TOKEN_HEADER, SESSION_COOKIE
from service.http.schemas import ErrorResponse

if TYPE_CHECKING:
    from litestar.config.cors import CORSConfig

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
