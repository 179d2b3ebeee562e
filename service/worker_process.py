"""`jobstream worker`: runs batch jobs delivered by NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import structlog

from projections.read_models.known import BATCH_JOBS
from service.bootstrap.process import Bootstrap
from service.engine.embedded import job_steps
from service.engine.heartbeat import Heartbeat
from service.engine.jetstream import jetstream_engines
from service.files.retention import sweeper_for
from service.messaging import envelope
from service.messaging.streams import StreamLimits, ensure_stream
from service.nats_client import connect, disconnect
from service.processing.reaper import StuckJobReaper
from service.settings import nats_servers
from service.signals import run_until_signalled

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.msg import Msg

    from service.engine.loop import JobEngine
    from service.engine.steps import JobSteps
    from service.messaging.published_jobs import PublishedJobs
    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("worker")


@dataclass
class RunningWorker:
    steps: JobSteps
    registry: StrategyRegistry


def cancel_listener(steps: JobSteps) -> Callable[[Msg], Awaitable[None]]:
    async def on_canceled(message: Msg) -> None:
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            steps.signals.cancel(envelope.decode(message.data).job_id)

    return on_canceled


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings,
    registry: StrategyRegistry | None = None,
    *,
    bootstrap: Bootstrap | None = None,
    published_jobs: PublishedJobs | None = None,
) -> AsyncIterator[RunningWorker]:
    """A worker fetching and running jobs until the context exits (then it drains).

    Over `bootstrap`'s parts (`serve`: the API's), else over parts of its own.
    `published_jobs`: new jobs a relay in this process published.
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
    workers = await asyncio.to_thread(lambda: parts.workers)  # the heartbeats' registry
    registry = parts.registry
    if bootstrap is None:
        # Alone, the worker waits on positions `jobstream projections` tells.
        await asyncio.to_thread(parts.read_models.start)
    # Each work subject has slots of its own (jetstream_engines): processing runs
    # in batch.confirmed's, not run on in the slots that pre-process new jobs.
    steps = job_steps(settings, app, registry, run_on=False)
    # Every worker reaps: the read model finds lapsed leases, the job decides.
    reaper = StuckJobReaper(
        app, parts.jobs_view, stuck_after=settings.stuck_job_seconds
    )
    # Every worker sweeps old files too: sweeps are idempotent.
    sweeper = sweeper_for(
        settings, parts.files, app, parts.jobs_view,
        parts.read_models[BATCH_JOBS.name].catch_up,
    )  # fmt: skip
    nc = await connect(nats_servers(settings.nats_url), "jobstream-worker")
    engines: list[JobEngine] = []
    heartbeat: Heartbeat | None = None
    reaper.start()
    sweeper.start()
    try:
        js = nc.jetstream()
        await ensure_stream(
            js,
            settings.nats_stream,
            settings.nats_subject_prefix,
            settings.nats_replicas,
            StreamLimits.of(settings),
        )
        engines = await jetstream_engines(settings, steps, js, published_jobs)
        heartbeat = Heartbeat(
            workers, steps.actor, lambda: sum(e.in_flight for e in engines)
        )
        heartbeat.start()
        # Cancels reach running jobs from the stream (plain subscription: every worker).
        canceled = await nc.subscribe(
            envelope.subject_for(settings.nats_subject_prefix, "batch.canceled"),
            cb=cancel_listener(steps),
        )
        log.info("worker.started", batch_types=registry.batch_types)
        try:
            yield RunningWorker(steps, registry)
        finally:
            with contextlib.suppress(Exception):  # reconnecting: drain will settle it
                await canceled.unsubscribe()
    finally:
        # Stop fetching and finish the jobs in hand (their acks need this loop).
        await asyncio.gather(*(asyncio.to_thread(e.stop) for e in engines))
        if heartbeat is not None:
            await asyncio.to_thread(heartbeat.stop)
        await disconnect(nc)
        sweeper.stop()
        reaper.stop()
        if bootstrap is None:
            parts.close()
        log.info("worker.stopped")


async def serve_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand and drain."""
    await run_until_signalled(running_worker(settings))
