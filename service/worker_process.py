"""`jobstream worker`: runs batch jobs delivered by NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import structlog

from domain.errors import BatchJobNotFoundError
from projections.batch_jobs.projection import BatchJobsProjection
from projections.read_models.known import CATALOG
from service.files.backends import build_file_storage
from service.messaging import envelope
from service.messaging.streams import ensure_stream
from service.messaging.worker import (
    Delivery,
    JobHandler,
    Redeliver,
    consumer_config,
    ensure_consumers,
    handle_delivery,
    run_consumer,
)
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
from service.strategies.lifecycle import JobLifecycle, RetryLater
from service.strategies.limits import TypeLimits, parse_limits
from service.strategies.registry import StrategyRegistry, StrategyServices

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.msg import Msg

    from service.application import Jobstream
    from service.catalog.readmodel import CatalogReadModel
    from service.settings import Settings

log = structlog.get_logger("worker")
WORK_EVENTS = ("batch.created", "batch.confirmed")


@dataclass
class RunningWorker:
    lifecycle: JobLifecycle
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


# A worker at a type's limit gives the message back: another worker may take it.
LIMITED_DELAY = 1.0


def job_handlers(lifecycle: JobLifecycle, limits: TypeLimits) -> dict[str, JobHandler]:
    def limited(work: Callable[[], None], job_id: str) -> None:
        if not limits.active:
            work()  # no type limited: no need to read the job
            return
        batch_type = lifecycle.batch_type_of(job_id)
        if not limits.try_acquire(batch_type):
            raise Redeliver(LIMITED_DELAY)
        try:
            work()
        finally:
            limits.release(batch_type)

    def handler(step: Callable[[str], None]) -> JobHandler:
        def handle(job_id: str, attempt: int) -> None:  # noqa: ARG001 - a JobHandler
            # A retry, or another worker's live lease: give the message back for then.
            try:
                limited(lambda: step(job_id), job_id)
            except RetryLater as retry:
                raise Redeliver(retry.delay) from retry
            except BatchJobNotFoundError:
                # Another deployment's event on a shared stream: not ours, ever.
                log.warning("worker.unknown_job")

        return handle

    return {
        "batch.created": handler(lifecycle.pre_process),
        "batch.confirmed": handler(lifecycle.process),
    }


def cancel_listener(lifecycle: JobLifecycle) -> Callable[[Msg], Awaitable[None]]:
    async def on_canceled(message: Msg) -> None:
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            lifecycle.signals.cancel(envelope.decode(message.data).job_id)

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
    lifecycle = JobLifecycle(
        app=app,
        registry=registry,
        max_attempts=settings.max_processing_attempts,
        lease_seconds=settings.lease_seconds,
    )
    # Every worker reaps: the read model finds lapsed leases, the job decides.
    view_store = infrastructure(settings, BatchJobsProjection.name, pool_size=1)
    reaper = StuckJobReaper(
        app,
        build_view(settings, view_store, owner=False),
        stuck_after=settings.stuck_job_seconds,
    )
    nc = await connect(nats_servers(settings.nats_url), "jobstream-worker")
    stop = asyncio.Event()
    # Threads of the worker's own, one per job slot (see handle_delivery).
    jobs = ThreadPoolExecutor(
        settings.worker_concurrency * len(WORK_EVENTS), thread_name_prefix="job"
    )
    reaper.start()
    try:
        js = nc.jetstream()
        await ensure_stream(
            js,
            settings.nats_stream,
            settings.nats_subject_prefix,
            settings.nats_replicas,
        )
        configs = [
            consumer_config(
                settings.worker_durable,
                settings.nats_subject_prefix,
                event,
                lease_seconds=settings.lease_seconds,
                max_deliver=settings.max_deliveries,
            )
            for event in WORK_EVENTS
        ]
        await ensure_consumers(js, settings.nats_stream, configs)
        limits = TypeLimits(parse_limits(settings.type_concurrency))
        handlers = job_handlers(lifecycle, limits)
        heartbeat = settings.lease_seconds / 3

        async def handle(delivery: Delivery) -> str:
            return await handle_delivery(
                delivery, handlers, heartbeat_seconds=heartbeat, executor=jobs
            )

        consumers = []
        for config in configs:
            # Slots per work subject: a fetch waiting on an idle subject must not hold
            # the slots the other subject's work needs.
            slots = asyncio.Semaphore(settings.worker_concurrency)
            assert config.durable_name is not None  # noqa: S101 - set just above
            subscription = await js.pull_subscribe_bind(
                config.durable_name, stream=settings.nats_stream
            )
            consumers.append(
                asyncio.create_task(run_consumer(subscription, handle, slots, stop))
            )
        # Cancels reach running jobs from the stream (plain subscription: every worker).
        canceled = await nc.subscribe(
            envelope.subject_for(settings.nats_subject_prefix, "batch.canceled"),
            cb=cancel_listener(lifecycle),
        )
        log.info("worker.started", batch_types=registry.batch_types)
        try:
            yield RunningWorker(lifecycle, registry)
        finally:
            stop.set()  # stop fetching; finish the jobs in hand
            await asyncio.gather(*consumers, return_exceptions=True)
            await canceled.unsubscribe()
    finally:
        await nc.drain()
        jobs.shutdown(wait=False)
        reaper.stop()
        view_store.close()
        files.close()
        catalog.close()
        app.close()
        log.info("worker.stopped")


async def serve_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand and drain."""
    await run_until_signalled(running_worker(settings))
