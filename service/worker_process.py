"""`jobstream worker`: runs batch jobs delivered by NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import structlog

from projections.batch_jobs.projection import BatchJobsProjection
from projections.read_models.known import CATALOG
from service.engine.embedded import job_steps
from service.engine.jetstream import jetstream_engines
from service.files.backends import build_file_storage
from service.messaging import envelope
from service.messaging.streams import ensure_stream
from service.nats_client import connect
from service.processing.reaper import StuckJobReaper
from service.read_models.host import ReadModelHost
from service.runtime import (
    build_app,
    build_view,
    infrastructure,
)
from service.settings import nats_servers
from service.signals import run_until_signalled
from service.strategies.registry import StrategyRegistry, StrategyServices

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.msg import Msg

    from service.application import Jobstream
    from service.catalog.readmodel import CatalogReadModel
    from service.engine.loop import JobEngine
    from service.engine.steps import JobSteps
    from service.settings import Settings

log = structlog.get_logger("worker")


@dataclass
class RunningWorker:
    steps: JobSteps
    registry: StrategyRegistry


class LazyCatalog:
    """The catalog read model (kept by `jobstream projections`), opened on first use."""

    def __init__(self, app: Jobstream, settings: Settings) -> None:
        self._app, self._settings = app, settings
        self._host: ReadModelHost | None = None
        self._lock = threading.Lock()

    def __call__(self) -> CatalogReadModel:
        with self._lock:
            if self._host is None:
                self._host = ReadModelHost(
                    self._settings, self._app, project=False,
                    definitions=(CATALOG,), pool_size=2,
                )  # fmt: skip
                self._host.start()
            return self._host[CATALOG.name]

    def close(self) -> None:
        if self._host is not None:
            self._host.stop()


def cancel_listener(steps: JobSteps) -> Callable[[Msg], Awaitable[None]]:
    async def on_canceled(message: Msg) -> None:
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            steps.signals.cancel(envelope.decode(message.data).job_id)

    return on_canceled


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings, registry: StrategyRegistry | None = None
) -> AsyncIterator[RunningWorker]:
    """A worker fetching and running jobs until the context exits (then it drains)."""
    if settings.nats_url is None:
        raise ValueError(
            "Set JOBSTREAM_NATS_URL: workers take jobs from NATS JetStream"
        )
    app = build_app(settings)
    files = await asyncio.to_thread(build_file_storage, settings)
    catalog = LazyCatalog(app, settings)
    if registry is None:
        registry = StrategyRegistry()
        registry.load_entry_points(StrategyServices(app, settings, files, catalog))
    steps = job_steps(settings, app, registry)
    # Every worker reaps: the read model finds lapsed leases, the job decides.
    view_store = infrastructure(settings, BatchJobsProjection.name, pool_size=1)
    reaper = StuckJobReaper(
        app,
        build_view(settings, view_store, owner=False),
        stuck_after=settings.stuck_job_seconds,
    )
    nc = await connect(nats_servers(settings.nats_url), "jobstream-worker")
    engines: list[JobEngine] = []
    reaper.start()
    try:
        js = nc.jetstream()
        await ensure_stream(
            js,
            settings.nats_stream,
            settings.nats_subject_prefix,
            settings.nats_replicas,
        )
        engines = await jetstream_engines(settings, steps, js)
        # Cancels reach running jobs from the stream (plain subscription: every worker).
        canceled = await nc.subscribe(
            envelope.subject_for(settings.nats_subject_prefix, "batch.canceled"),
            cb=cancel_listener(steps),
        )
        log.info("worker.started", batch_types=registry.batch_types)
        try:
            yield RunningWorker(steps, registry)
        finally:
            await canceled.unsubscribe()
    finally:
        # Stop fetching and finish the jobs in hand (their acks need this loop).
        await asyncio.gather(*(asyncio.to_thread(e.stop) for e in engines))
        await nc.drain()
        reaper.stop()
        view_store.close()
        files.close()
        catalog.close()
        app.close()
        log.info("worker.stopped")


async def serve_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand and drain."""
    await run_until_signalled(running_worker(settings))
