"""`jobstream relay`: the outbox relay as a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from service.bootstrap.process import Bootstrap
from service.messaging.leadership import FileLock, Leadership, PostgresLease
from service.messaging.redrive import WorkRedrive, redriving, sweep_interval
from service.messaging.relay import Relay
from service.messaging.streams import StreamLimits, ensure_stream
from service.nats_client import connect, disconnect
from service.pg_listener import NotificationListener
from service.settings import nats_servers
from service.signals import run_until_signalled
from service.stream_names import relay_lease_name, relay_lock_path

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from service.messaging.published_jobs import PublishedJobs
    from service.settings import Settings

log = structlog.get_logger("relay")


def leadership_for(settings: Settings) -> Leadership:
    if settings.database_url is not None:
        # The lease plus a standby's poll stays within the documented bound.
        bound = settings.relay_leadership_seconds
        poll = min(0.5, bound / 10)
        return PostgresLease(
            settings.database_url,
            relay_lease_name(settings),
            lease_seconds=bound - poll,
            poll_seconds=poll,
        )
    return FileLock(relay_lock_path(settings))


@contextlib.asynccontextmanager
async def running_relay(
    settings: Settings,
    *,
    bootstrap: Bootstrap | None = None,
    published_jobs: PublishedJobs | None = None,
) -> AsyncIterator[Relay]:
    """A relay publishing (or standing by) until the context exits.

    Over `bootstrap`'s parts (`serve`: the API's), else over parts of its own.
    `published_jobs`: where new jobs go for a worker in this process.
    """
    if settings.nats_url is None:
        raise ValueError(
            "Set JOBSTREAM_NATS_URL: the relay publishes to NATS JetStream"
        )
    parts = bootstrap or Bootstrap(settings, project=False)
    app = parts.app
    nc = await connect(nats_servers(settings.nats_url), "jobstream-relay")
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    listener = None
    try:
        js = nc.jetstream()
        await ensure_stream(
            js,
            settings.nats_stream,
            settings.nats_subject_prefix,
            settings.nats_replicas,
            StreamLimits.of(settings),
        )
        relay = Relay(
            app=app,
            tracking=parts.relay_position,  # a position per stream: each has its relay
            js=js,
            subject_prefix=settings.nats_subject_prefix,
            leadership=leadership_for(settings),
            stream=settings.nats_stream,
            # PostgreSQL wakes it (LISTEN); a SQLite store in another process cannot.
            idle_seconds=1.0 if settings.is_postgres else 0.1,
            published_jobs=published_jobs,
        )
        if settings.database_url is not None:
            channel = getattr(app.recorder, "channel_name", "jobstream_events")

            def wake_soon(_topics: Sequence[str] | None) -> None:
                loop.call_soon_threadsafe(wake.set)  # from the listener's thread

            listener = NotificationListener(settings.database_url, channel, wake_soon)
            listener.start()
        redrive = WorkRedrive(
            app=app,
            view=parts.jobs_view,
            js=js,
            stream=settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
            durable=settings.worker_durable,
            after=settings.work_redrive_seconds,
        )
        tasks = [
            asyncio.create_task(relay.run(stop, wake)),
            asyncio.create_task(
                redriving(
                    redrive,
                    lambda: relay.position if relay.leading else None,
                    stop,
                    sweep_interval(settings.work_redrive_seconds),
                )
            ),
        ]
        try:
            yield relay
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    finally:
        if listener is not None:
            listener.stop()
        await disconnect(nc)
        if bootstrap is None:
            parts.close()
        log.info("relay.stopped")


async def serve_relay(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT."""
    log.info("relay.started", stream=settings.nats_stream)
    await run_until_signalled(running_relay(settings))
