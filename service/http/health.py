"""GET /health: "OK" once ready (as Medusa answers), 503 with details when not."""

from __future__ import annotations

from typing import cast

import msgspec
import structlog
from litestar import MediaType, Response, get
from litestar.di import NamedDependency

from service.api_services.health import HealthService
from service.http import openapi
from service.http.schemas import HealthResponse

log = structlog.get_logger("health")


def _public(checks: dict[str, str]) -> dict[str, str]:
    """Each check's state alone ("down", "failing"): the error text goes to the log.

    The endpoints answer anyone, and an error can name hosts, ports and user data.
    """
    public = {name: state.split(":", 1)[0] for name, state in checks.items()}
    if public != checks:
        log.warning("health.unavailable", checks=checks)
    return public


@get(
    "/health",
    sync_to_thread=True,
    operation_id="GetHealth",
    tags=["Health"],
    media_type=MediaType.TEXT,
    responses=openapi.HEALTH_UNAVAILABLE,
)
def health(probes: NamedDependency[HealthService]) -> Response[bytes]:
    """200 `OK` when the event store, read model, sessions, runners and NATS are up."""
    checks = probes.checks()
    if all(state == "ok" for state in checks.values()):
        return Response(b"OK", media_type=MediaType.TEXT, status_code=200)
    public = _public(checks)
    body = msgspec.json.encode(HealthResponse(status="unavailable", checks=public))
    return Response(body, media_type=MediaType.JSON, status_code=503)


@get(
    "/health/details",
    sync_to_thread=True,
    operation_id="GetHealthDetails",
    tags=["Health"],
    responses=openapi.HEALTH_DETAILS,
)
def health_details(probes: NamedDependency[HealthService]) -> Response[bytes]:
    """Checks, the event store's head, and the lag of the projection (and relay)."""
    report = probes.details()
    checks = cast("dict[str, str]", report["checks"])
    report["checks"] = _public(checks)
    if "nats" in report:
        report["nats"] = _public({"nats": str(report["nats"])})["nats"]
    if checks.get("nats", "ok") != "ok":
        report["status"] = "unavailable"
    status = 200 if report["status"] == "ok" else 503
    return Response(
        msgspec.json.encode(report), media_type=MediaType.JSON, status_code=status
    )
