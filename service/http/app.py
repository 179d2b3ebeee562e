"""The Litestar app factory: controllers, dependencies, errors, OpenAPI, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin

from service.http import catalog
from service.http.auth import AuthController
from service.http.batch_jobs import BatchJobController
from service.http.dependencies import provide_caller, provide_runtime
from service.http.downloads import download
from service.http.errors import EXCEPTION_HANDLERS
from service.http.front_door import front_door
from service.http.health import health, health_details
from service.http.history import HistoryController
from service.http.json_request import JsonOnlyRequest
from service.http.uploads import UploadController
from service.ports import ApiRuntime

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def create_app(
    runtime: ApiRuntime,
    *,
    manage_runtime: bool = True,
    roles: Sequence[Lifespan] = (),
) -> Litestar:
    """The API over `runtime`; with `manage_runtime`, the app starts and stops it.

    `roles` run beside the API once the runtime has started, and stop before it.
    """

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

    cors = admin_cors(runtime.settings.admin_cors)
    return Litestar(
        route_handlers=[
            BatchJobController,
            AuthController,
            health,
            health_details,
            *catalog.CONTROLLERS,
            UploadController,
            HistoryController,
            download,
        ],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "caller": Provide(provide_caller),
        },
        exception_handlers={**EXCEPTION_HANDLERS, **catalog.EXCEPTION_HANDLERS},
        cors_config=cors,
        middleware=[front_door(cors)],
        request_class=JsonOnlyRequest,
        lifespan=[lifespan, *roles],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Jobstream",
            version="0.1.0",
            description="Medusa v1 batch-job Admin API, event-sourced.",
            path="/schema",
            # The schema files alone: Litestar's viewers load scripts from public CDNs.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        ),
    )


def admin_cors(origins: str) -> CORSConfig:
    """Medusa's admin CORS: listed origins (or /regex/ ones), with credentials."""
    entries = [entry.strip() for entry in origins.split(",") if entry.strip()]
    patterns = [e[1:-1] for e in entries if len(e) > 1 and e[0] == e[-1] == "/"]
    return CORSConfig(
        allow_origins=[e for e in entries if not (len(e) > 1 and e[0] == e[-1] == "/")],
        allow_origin_regex="|".join(f"(?:{p})" for p in patterns) or None,
        allow_credentials=True,
    )
