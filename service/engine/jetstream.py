"""Work from JetStream: a durable pull consumer shared by every worker (a work queue).

The engine's threads call `fetch`; the fetch, acks and heartbeats run on the
worker's event loop, where the NATS client lives. A malformed message is terminated,
never retried; an event that is not work is acked untouched. JetStream redelivers a
message not acked within the consumer's `ack_wait` (a lease length) unless the
engine's in-progress heartbeats say it is still being worked on.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec
import structlog
from nats.errors import TimeoutError as NatsTimeoutError

from service import tracing
from service.engine.loop import JobEngine
from service.engine.work import Step
from service.messaging import envelope
from service.messaging.worker import consumer_config, ensure_consumers
from service.strategies.limits import TypeLimits, limits_of

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from nats.js.client import JetStreamContext

    from domain.batch_jobs import BatchJob
    from service.engine.steps import JobSteps
    from service.messaging.published_jobs import PublishedJobs
    from service.settings import Settings

log = structlog.get_logger("worker")
T = TypeVar("T")

STEPS = {"batch.created": Step.PRE_PROCESS, "batch.confirmed": Step.PROCESS}
SETTLE_SECONDS = 10.0  # an ack, nak or heartbeat the client cannot send by then


class Delivery(Protocol):
    """The part of a JetStream message the source uses (tests fake it)."""

    data: bytes
    headers: dict[str, str] | None

    @property
    def metadata(self) -> Any: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None: ...

    async def in_progress(self) -> None: ...


class Fetcher(Protocol):
    """The part of a JetStream pull subscription the source uses."""

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]: ...  # noqa: ASYNC109 - nats-py's signature

    async def unsubscribe(self) -> None: ...


@dataclass
class JetStreamWork:
    job_id: str
    step: Step
    attempt: int
    delivery: Delivery
    loop: asyncio.AbstractEventLoop
    trace_parent: str | None = None  # the message's `traceparent` header
    # The job as created, where the relay beside this worker kept its event.
    created: BatchJob | None = None

    def ack(self) -> None:
        self._send(self.delivery.ack())

    def nak(self, delay: float) -> None:
        self._send(self.delivery.nak(delay=delay or None))

    def term(self) -> None:
        self._send(self.delivery.term())

    def in_progress(self) -> None:
        self._send(self.delivery.in_progress())

    def _send(self, call: Coroutine[Any, Any, None]) -> None:
        on_loop(self.loop, call, SETTLE_SECONDS)


def on_loop(
    loop: asyncio.AbstractEventLoop, call: Coroutine[Any, Any, T], timeout: float
) -> T:
    """Run `call` on the client's event loop from an engine thread; wait for it."""
    return asyncio.run_coroutine_threadsafe(call, loop).result(timeout)


class JetStreamWorkSource:
    def __init__(
        self,
        subscription: Fetcher,
        loop: asyncio.AbstractEventLoop,
        published_jobs: PublishedJobs | None = None,
    ) -> None:
        """`published_jobs`: new jobs the relay beside this worker published."""
        self._subscription = subscription
        self._loop = loop
        self._published_jobs = published_jobs

    def fetch(self, most: int, timeout: float) -> list[JetStreamWork]:
        # The fetch's own timeout, and a little more for the loop to answer.
        return on_loop(self._loop, self._fetch(most, timeout), timeout + SETTLE_SECONDS)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            on_loop(self._loop, self._subscription.unsubscribe(), SETTLE_SECONDS)

    async def _fetch(self, most: int, wait: float) -> list[JetStreamWork]:
        try:
            deliveries = await self._subscription.fetch(
                batch=most, timeout=max(wait, 0.01)
            )
        except (NatsTimeoutError, TimeoutError):
            # An idle fetch: nats-py raises its own TimeoutError or asyncio's (builtin)
            # one. Catching only the first is what used to end a consumer's loop.
            return []
        works = []
        for delivery in deliveries:
            work = await self._work_of(delivery)
            if work is not None:
                works.append(work)
        return works

    async def _work_of(self, delivery: Delivery) -> JetStreamWork | None:
        try:
            message = envelope.decode(delivery.data)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            log.warning(
                "worker.poison_message", size=len(delivery.data), error=str(error)
            )
            await delivery.term()
            return None
        step = STEPS.get(message.event)
        if step is None:
            await delivery.ack()  # not work this worker does
            return None
        attempt = int(getattr(delivery.metadata, "num_delivered", 1) or 1)
        work = JetStreamWork(message.job_id, step, attempt, delivery, self._loop)
        if step is Step.PRE_PROCESS and self._published_jobs is not None:
            work.created = self._published_jobs.take(message.position, message.job_id)
        if tracing.enabled and delivery.headers:
            work.trace_parent = delivery.headers.get("traceparent")
        return work


async def jetstream_engines(
    settings: Settings,
    steps: JobSteps,
    js: JetStreamContext,
    published_jobs: PublishedJobs | None = None,
) -> list[JobEngine]:
    """Started engines, one per work subject, on durable consumers made if missing.

    `published_jobs`: new jobs a relay in this process published (spares a read each).

    Each has slots of its own: a fetch waiting on an idle subject must not hold the
    slots the other subject's work needs. Jobs run on the engines' threads, never on
    the event loop's default executor (in `serve` that one runs the HTTP handlers).
    """
    configs = [
        consumer_config(
            settings.worker_durable,
            settings.nats_subject_prefix,
            event,
            lease_seconds=settings.lease_seconds,
            max_deliver=settings.max_deliveries,
        )
        for event in STEPS
    ]
    await ensure_consumers(js, settings.nats_stream, configs)
    limits = TypeLimits(limits_of(settings.type_concurrency))
    loop = asyncio.get_running_loop()
    engines: dict[str, JobEngine] = {}
    for event, config in zip(STEPS, configs, strict=True):
        assert config.durable_name is not None  # noqa: S101 - set by consumer_config
        subscription = await js.pull_subscribe_bind(
            config.durable_name, stream=settings.nats_stream
        )
        engine = JobEngine(
            steps=steps,
            source=JetStreamWorkSource(subscription, loop, published_jobs),
            limits=limits,
            slots=settings.worker_concurrency,
            name=f"worker.{config.durable_name}",
        )
        engines[event] = engine
    # A new job runs on in batch.created's slots while a quarter of them stay free
    # (ADR 010): a short job is done in one delivery, and previews never wait behind
    # long runs, which batch.confirmed's slots take once that engine is busy.
    steps.run_on_while(engines["batch.created"].has_room)
    for engine in engines.values():
        engine.start()
    return list(engines.values())
