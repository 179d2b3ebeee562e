"""Request dependencies: the narrow services handlers use, and the authenticated caller."""

from __future__ import annotations

from typing import Any, cast

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State

from domain.users import User
from service.api_services.assembly import ApiServices
from service.api_services.auth import AuthService
from service.api_services.batch_jobs import BatchJobsService
from service.api_services.catalog import CatalogService
from service.api_services.files import FilesService
from service.api_services.health import HealthService
from service.api_services.history import HistoryService
from service.api_services.operator import OperatorService
from service.http.identity import authenticate, authenticate_from_memory


def services_of(state: State) -> ApiServices:
    return cast("ApiServices", state.services)


def provide_jobs(state: State) -> BatchJobsService:
    return services_of(state).jobs


def provide_catalog(state: State) -> CatalogService:
    return services_of(state).catalog


def provide_auth(state: State) -> AuthService:
    return services_of(state).auth


def provide_files(state: State) -> FilesService:
    return services_of(state).files


def provide_health(state: State) -> HealthService:
    return services_of(state).health


def provide_history(state: State) -> HistoryService:
    return services_of(state).history


def provide_operator(state: State) -> OperatorService:
    return services_of(state).operator


async def provide_caller(request: Request[Any, Any, Any]) -> User:
    # The auth service straight from the app's state, not as a dependency of its own:
    # every authenticated request pays for each dependency Litestar resolves.
    auth = services_of(request.app.state).auth
    # Most requests are answered from memory; only a miss pays a thread hop for I/O.
    user = authenticate_from_memory(request, auth)
    if user is not None:
        return user
    return await anyio.to_thread.run_sync(authenticate, request, auth)
