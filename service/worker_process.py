"""`jobstream worker`: runs batch jobs delivered by NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import nats
import structlog

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
from service.runtime import build_app
from service.settings import nats_servers
from service.signals import run_until_signalled
from service.strategies.lifecycle import JobLifecycle, RetryLater
from service.strategies.limits import TypeLimits, parse_limits
from service.strategies.registry import StrategyRegistry, StrategyServices

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.msg import Msg

    from service.settings import Settings

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

    def pre_process(job_id: str, attempt: int) -> None:  # noqa: ARG001 - a JobHandler
        limited(lambda: lifecycle.pre_process(job_id), job_id)

    def process(job_id: str, attempt: int) -> None:
        # A redelivery: the job's last worker stopped heartbeating, or asked to retry.
        try:
            limited(lambda: lifecycle.process(job_id, resume=attempt > 1), job_id)
        except RetryLater as retry:
            raise Redeliver(retry.delay) from retry

    return {"batch.created": pre_process, "batch.confirmed": process}


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
    if registry is None:
        registry = StrategyRegistry()
        registry.load_entry_points(StrategyServices(app, settings, files))
    lifecycle = JobLifecycle(
        app=app, registry=registry, max_attempts=settings.max_processing_attempts
    )
    nc = await nats.connect(nats_servers(settings.nats_url), name="jobstream-worker")
    stop = asyncio.Event()
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
                delivery, handlers, heartbeat_seconds=heartbeat
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
        files.close()
        app.close()


async def serve_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand and drain."""
    await run_until_signalled(running_worker(settings))
    log.info("worker.stopped")
