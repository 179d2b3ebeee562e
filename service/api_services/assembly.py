"""The API's services, built once over one process's runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from projections.read_models.known import BATCH_JOBS
from service.api_services.auth import Auth, AuthService
from service.api_services.awaitable_reads import awaitable_documents
from service.api_services.batch_jobs import BatchJobs, BatchJobsService
from service.api_services.catalog import CatalogParts, CatalogService
from service.api_services.feed import EventFeed, FeedService
from service.api_services.files import Files, FilesService
from service.api_services.health import (
    Health,
    HealthService,
    details_with_broker,
    with_broker,
)
from service.api_services.history import EventHistory, HistoryService
from service.api_services.operator import Operator, OperatorService
from service.api_services.retries import Retries, RetryService
from service.api_services.system import System, SystemService
from service.read_models.shared_positions import SharedPositions

if TYPE_CHECKING:
    from service.ports import ApiRuntime


@dataclass(frozen=True)
class ApiServices:
    jobs: BatchJobsService
    catalog: CatalogService
    auth: AuthService
    files: FilesService
    health: HealthService
    history: HistoryService
    operator: OperatorService
    retries: RetryService
    feed: FeedService
    system: SystemService


def api_services(runtime: ApiRuntime) -> ApiServices:
    """Each service over the runtime's parts; handlers see only the services."""
    app, settings = runtime.app, runtime.settings
    feed = EventFeed(app, runtime.read_models.head)
    # Saves in this process, and those heard from others, wake the feed's readers.
    app.save_listeners.append(feed.wakeups.wake_for)
    runtime.read_models.also_wake.append(feed.wakeups.wake_for)
    remote = runtime.read_models.remote
    if isinstance(remote, SharedPositions) and not runtime.read_models.project:
        # Embedded, a process that does not keep the read models hears no saves but
        # its own: the batch-jobs position in the mapped file follows the others'.
        feed.wakeups.watch_moves(lambda: remote.position(BATCH_JOBS.name))

    jobs_model = runtime.read_models[BATCH_JOBS.name]

    def operator_catch_up(caller_id: str) -> None:
        # Operator pages read the whole system: every event stored so far, and the
        # caller's own writes.
        runtime.catch_up_read_model(caller_id, everything=True)

    return ApiServices(
        jobs=BatchJobs(
            app,
            runtime.view,
            runtime.registry,
            settle=runtime.settle,
            catch_up=runtime.catch_up_read_model,
            hosted=jobs_model,
            settle_async=runtime.settle_async,
            awaitable_reads=awaitable_documents(
                runtime.view,
                settings.database_url,
                jobs_model.known_position,
                callers_table=getattr(runtime.read_models.callers, "table", None),
            ),
        ),
        catalog=CatalogParts(runtime.catalog, runtime.catalog_reads),
        auth=Auth(app, runtime.sessions, runtime.logins, runtime.secrets, settings),
        files=Files(app, runtime.files, runtime.secrets.jwt_secret, settings),
        health=Health(
            lambda: with_broker(runtime.settings.nats_url, runtime.health()),
            lambda: details_with_broker(runtime.settings.nats_url, runtime.details()),
        ),
        history=EventHistory(app),
        operator=Operator(
            app,
            runtime.view,
            runtime.files,
            settle=runtime.settle,
            catch_up=operator_catch_up,
        ),
        retries=Retries(app, runtime.registry, runtime.settle),
        feed=feed,
        system=System(
            settings=settings,
            app=app,
            view=runtime.view,
            read_models=runtime.read_models,
            workers=runtime.worker_registry,
            relay_position=runtime.relay_position,
            catch_up=operator_catch_up,
        ),
    )
