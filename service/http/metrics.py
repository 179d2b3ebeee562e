"""GET /metrics: Prometheus' text format, for an admin or the metrics token's bearer."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from service.api_services.auth import AuthService
from service.api_services.system import SystemService
from service.http import openapi
from service.http.admin_only import refusal_unless_admin
from service.http.identity import authenticate
from service.metrics.scrape import CONTENT_TYPE


def _bears_token(request: Request[Any, Any, Any], token: str | None) -> bool:
    if token is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@get(
    "/metrics",
    sync_to_thread=True,
    operation_id="GetMetrics",
    tags=["Jobstream operator"],
    media_type=CONTENT_TYPE,
    security=openapi.LOGGED_IN,
)
def metrics(
    request: Request[Any, Any, Any],
    system: NamedDependency[SystemService],
    auth: NamedDependency[AuthService],
) -> Response[bytes]:
    """Every metric in Prometheus' text format (see docs/operations.md)."""
    if not _bears_token(request, system.settings.metrics_token):
        # A login as on the admin routes (401 without one); admins only.
        refusal = refusal_unless_admin(authenticate(request, auth), "metrics")
        if refusal is not None:
            return refusal
    return Response(system.metrics_text(), media_type=CONTENT_TYPE)
