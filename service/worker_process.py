"""`jobstream worker`: runs batch jobs delivered by NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import structlog

from domain.errors import BatchJobNotFoundError
from service.bootstrap.process import Bootstrap
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
from service.settings import nats_servers
from service.signals import run_until_signalled
from service.strategies.lifecycle import JobLifecycle, RetryLater
from service.strategies.limits import TypeLimits, parse_limits

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.msg import Msg

    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("worker")
WORK_EVENTS = ("batch.created", "batch.confirmed")


@dataclass
class RunningWorker:
    lifecycle: JobLifecycle
    registry: StrategyRegistry


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
    settings: Settings,
    registry: StrategyRegistry | None = None,
    *,
    bootstrap: Bootstrap | None = None,
) -> AsyncIterator[RunningWorker]:
    """A worker fetching and running jobs until the context exits (then it drains).

    Over `bootstrap`'s parts (`serve`: the API's), else over parts of its own.
    """
    if settings.nats_url is None:
        raise ValueError(
            "Set JOBSTREAM_NATS_URL: workers take jobs from NATS JetStream"
        )
    parts = bootstrap or Bootstrap(
        settings, registry=registry, project=False, pool_size=2
    )
    app = parts.app
    # A NATS file store connects on first use: off the event loop.
    await asyncio.to_thread(lambda: parts.files)
    registry = parts.registry
    lifecycle = JobLifecycle(
        app=app,
        registry=registry,
        max_attempts=settings.max_processing_attempts,
        lease_seconds=settings.lease_seconds,
    )
    # Every worker reaps: the read model finds lapsed leases, the job decides.
    reaper = StuckJobReaper(
        app, parts.jobs_view, stuck_after=settings.stuck_job_seconds
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
        if bootstrap is None:
            parts.close()
        log.info("worker.stopped")


async def serve_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand and drain."""
    await run_until_signalled(running_worker(settings))
