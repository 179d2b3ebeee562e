"""GET /health: "OK" once ready (as Medusa answers), 503 with details when not."""

from __future__ import annotations

import msgspec
from litestar import MediaType, Response, get
from litestar.di import NamedDependency

from service.http import openapi
from service.http.schemas import HealthResponse
from service.ports import ApiRuntime


@get(
    "/health",
    sync_to_thread=True,
    operation_id="GetHealth",
    tags=["Health"],
    media_type=MediaType.TEXT,
    responses=openapi.HEALTH_UNAVAILABLE,
)
def health(runtime: NamedDependency[ApiRuntime]) -> Response[bytes]:
    """200 `OK` when the event store, read model, sessions and runners are up."""
    checks = runtime.health()
    if all(state == "ok" for state in checks.values()):
        return Response(b"OK", media_type=MediaType.TEXT, status_code=200)
    body = msgspec.json.encode(HealthResponse(status="unavailable", checks=checks))
    return Response(body, media_type=MediaType.JSON, status_code=503)


@get(
    "/health/details",
    sync_to_thread=True,
    operation_id="GetHealthDetails",
    tags=["Health"],
)
def health_details(runtime: NamedDependency[ApiRuntime]) -> Response[bytes]:
    """Checks, the event store's head, and the lag of the projection (and relay)."""
    report = runtime.details()
    status = 200 if report["status"] == "ok" else 503
    return Response(
        msgspec.json.encode(report), media_type=MediaType.JSON, status_code=status
    )
