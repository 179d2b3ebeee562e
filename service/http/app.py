"""The Litestar app factory: controllers, dependencies, errors, OpenAPI, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin

from service import db_gate
from service.api_services.assembly import api_services
from service.console.routes import ConsoleController
from service.http import catalog, hot_create, openapi, operator
from service.http.auth import AuthController
from service.http.batch_jobs import BatchJobController
from service.http.database_cut import CutGuard
from service.http.dependencies import (
    provide_auth,
    provide_caller,
    provide_catalog,
    provide_files,
    provide_health,
    provide_history,
    provide_jobs,
    provide_operator,
    provide_system,
)
from service.http.dependency_order import resolve_dependencies_in_order
from service.http.downloads import download
from service.http.errors import EXCEPTION_HANDLERS
from service.http.front_door import (
    answer_before_routing,
    create_before_routing,
    front_door,
)
from service.http.health import health, health_details
from service.http.history import HistoryController
from service.http.json_request import JsonOnlyRequest
from service.http.metrics import metrics
from service.http.operator.system import system_report
from service.http.uploads import UploadController
from service.ports import ApiRuntime

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


class JobstreamApp(Litestar):
    """Litestar, with plain hot reads and creates answered before its middleware.

    front_door.answer_before_routing and create_before_routing take them when
    `hot_reads` is on; everything else, and whatever a lane declines, is Litestar's
    as usual.
    """

    hot_reads = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.hot_reads and scope["type"] == ScopeType.HTTP:
            if hot_create.takes(scope):
                scope["app"] = scope["litestar_app"] = self  # as Litestar sets them
                receive = await create_before_routing(scope, receive, send)
                if receive is None:
                    return
            elif await self._answered_early(scope, receive, send):
                return
        await super().__call__(scope, receive, send)

    async def _answered_early(self, scope: Any, receive: Any, send: Any) -> bool:
        scope["app"] = scope["litestar_app"] = self  # as Litestar sets them
        return await answer_before_routing(scope, receive, send)


def create_app(
    runtime: ApiRuntime,
    *,
    manage_runtime: bool = True,
    roles: Sequence[Lifespan] = (),
    hot_reads: bool = True,
) -> Litestar:
    """The API over `runtime`; with `manage_runtime`, the app starts and stops it.

    `roles` run beside the API once the runtime has started, and stop before it.
    Handlers receive the narrow services built here over the runtime, never the
    runtime itself. Without `hot_reads`, every request goes through Litestar's
    router (the lane's tests compare the two).
    """
    database_url = runtime.settings.database_url
    services = api_services(runtime)
    resolve_dependencies_in_order()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.runtime = runtime  # the process's, for whoever embeds the app
        app.state.services = services
        if manage_runtime:
            runtime.start()
        if database_url is not None:
            db_gate.open_gate(database_url)
        try:
            yield
        finally:
            services.feed.close()  # if the server did not end the streams first
            awaitable = services.jobs.awaitable_reads
            if awaitable is not None:  # its pool, opened in this loop by the lane
                await awaitable.close()
            if database_url is not None:
                db_gate.close_gate(database_url)
            if manage_runtime:
                runtime.stop()

    cors = admin_cors(runtime.settings.admin_cors)
    cut_guard = CutGuard(database_url)
    app = JobstreamApp(
        route_handlers=[
            BatchJobController,
            AuthController,
            health,
            health_details,
            *catalog.CONTROLLERS,
            UploadController,
            HistoryController,
            download,
            *operator.CONTROLLERS,
            metrics,
            system_report,
            ConsoleController,
        ],
        dependencies={
            "jobs": Provide(provide_jobs, sync_to_thread=False),
            "catalog": Provide(provide_catalog, sync_to_thread=False),
            "auth": Provide(provide_auth, sync_to_thread=False),
            "files": Provide(provide_files, sync_to_thread=False),
            "probes": Provide(provide_health, sync_to_thread=False),
            "histories": Provide(provide_history, sync_to_thread=False),
            "operator": Provide(provide_operator, sync_to_thread=False),
            "system": Provide(provide_system, sync_to_thread=False),
            "caller": Provide(provide_caller),
        },
        exception_handlers={**EXCEPTION_HANDLERS, **catalog.EXCEPTION_HANDLERS},
        cors_config=cors,
        # The front door (request id, NUL-free URL, origin guard) in one layer, then
        # the partition's guard: its 503 carries the request id and is logged.
        middleware=[
            # The lane answers ahead of Litestar (JobstreamApp); what it declines is
            # not asked again here.
            front_door(cors),
            cut_guard.middleware,
        ],
        request_class=JsonOnlyRequest,
        lifespan=[lifespan, *roles],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Jobstream",
            version="0.1.0",
            description="Medusa v1 batch-job Admin API, event-sourced.",
            path="/schema",
            components=openapi.COMPONENTS,
            # Each handler's docstring is its operation's description.
            use_handler_docstrings=True,
            # The schema files alone: Litestar's viewers load scripts from public CDNs.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        ),
    )
    app.hot_reads = hot_reads
    # The create lane (hot_create) keeps to the same guard as the middleware.
    app.state.cut_guard = cut_guard
    return app


def end_streams(app: Litestar) -> None:
    """The server begins to stop: end the live feeds, which would keep it waiting.

    uvicorn waits for open responses before it runs the lifespan's shutdown.
    """
    services = getattr(app.state, "services", None)
    if services is not None:
        services.feed.close()


def admin_cors(origins: str) -> CORSConfig:
    """Medusa's admin CORS: listed origins (or /regex/ ones), with credentials."""
    entries = [entry.strip() for entry in origins.split(",") if entry.strip()]
    patterns = [e[1:-1] for e in entries if len(e) > 1 and e[0] == e[-1] == "/"]
    return CORSConfig(
        allow_origins=[e for e in entries if not (len(e) > 1 and e[0] == e[-1] == "/")],
        allow_origin_regex="|".join(f"(?:{p})" for p in patterns) or None,
        allow_credentials=True,
    )
