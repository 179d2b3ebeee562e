"""GET /admin/jobstream/system: workers, relay, read models, throughput, NATS (admins)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from domain.users import User
from service.api_services.system import SystemReport, SystemService
from service.http import openapi
from service.http.admin_only import refusal_unless_admin


@get(
    "/admin/jobstream/system",
    sync_to_thread=True,
    operation_id="GetJobstreamSystem",
    tags=["Jobstream operator"],
    security=openapi.LOGGED_IN,
)
def system_report(
    caller: NamedDependency[User], system: NamedDependency[SystemService]
) -> SystemReport | Response[bytes]:
    """The system's state now, for admins.

    Workers and their heartbeats, relay and read-model lag, jobs per minute by status
    over the last hour (oldest first), and what waits in NATS.
    """
    refusal = refusal_unless_admin(caller, "the system's state")
    if refusal is not None:
        return refusal
    return system.report(caller.id)
