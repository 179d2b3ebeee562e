"""The Litestar app factory: controllers, dependencies, errors, OpenAPI, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from service.http.auth import AuthController
from service.http.batch_jobs import BatchJobController
from service.http.dependencies import provide_caller, provide_runtime
from service.http.errors import EXCEPTION_HANDLERS
from service.http.health import health
from service.http.request_context import request_context
from service.ports import ApiRuntime


def create_app(runtime: ApiRuntime, *, manage_runtime: bool = True) -> Litestar:
    """The API over `runtime`; with `manage_runtime`, the app starts and stops it."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.runtime = runtime
        if manage_runtime:
            runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                runtime.stop()

    return Litestar(
        route_handlers=[BatchJobController, AuthController, health],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "caller": Provide(provide_caller),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_context],
        lifespan=[lifespan],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Jobstream",
            version="0.1.0",
            description="Medusa v1 batch-job Admin API, event-sourced.",
            path="/schema",
        ),
    )
