"""JetStream workers: durable pull consumers shared by every worker (a work queue).

One consumer per work subject (`batch.created`, `batch.confirmed`); the server (2.9)
filters one subject per consumer. A worker fetches as many messages as it has free
slots, runs each job in a thread, tells JetStream it is still working (in-progress
acks) so the message is not redelivered, and acks when done. A malformed message is
terminated, never retried; a handler that raises is redelivered later, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import structlog
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from service.messaging import envelope

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from nats.js.client import JetStreamContext

log = structlog.get_logger("worker")

MAX_FETCH = 16  # messages asked for at once, at most
# A job handler: job id and delivery attempt (1 for the first delivery).
JobHandler = Callable[[str, int], None]


class Redeliver(Exception):  # noqa: N818 - an instruction, not a fault
    """Raised by a handler: give the message back, to be delivered again after `delay`."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"redeliver in {delay:.1f} s")
        self.delay = delay


class Delivery(Protocol):
    """The part of a JetStream message the worker uses (tests fake it)."""

    data: bytes

    @property
    def metadata(self) -> Any: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None: ...

    async def in_progress(self) -> None: ...


def consumer_name(durable_prefix: str, event: str) -> str:
    return f"{durable_prefix}-{event.replace('.', '-')}"


def consumer_config(
    durable_prefix: str, subject_prefix: str, event: str, *, lease_seconds: float,
    max_deliver: int,
) -> ConsumerConfig:  # fmt: skip
    return ConsumerConfig(
        durable_name=consumer_name(durable_prefix, event),
        filter_subject=envelope.subject_for(subject_prefix, event),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=lease_seconds,  # no heartbeat for this long: redelivered elsewhere
        max_deliver=max_deliver,
    )


async def handle_delivery(
    delivery: Delivery,
    handlers: Mapping[str, JobHandler],
    *,
    heartbeat_seconds: float,
    retry_delay: float = 1.0,
    executor: Executor | None = None,
) -> str:
    """Run the delivery's job; return what was done with it: ack, nak or term.

    The job runs on `executor` (the worker's own threads), not on the event loop's
    default executor: in `serve` that one also runs the HTTP handlers, and jobs
    blocked on a database that is away would hold every thread /health needs.
    """
    try:
        message = envelope.decode(delivery.data)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        log.warning("worker.poison_message", size=len(delivery.data), error=str(error))
        await delivery.term()
        return "term"
    handler = handlers.get(message.event)
    if handler is None:
        await delivery.ack()  # not work this worker does
        return "ack"
    attempt = int(getattr(delivery.metadata, "num_delivered", 1) or 1)
    with structlog.contextvars.bound_contextvars(
        job_id=message.job_id, attempt=attempt
    ):
        heartbeat = asyncio.create_task(_heartbeat(delivery, heartbeat_seconds))
        try:
            context = contextvars.copy_context()  # the log fields bound above
            await asyncio.get_running_loop().run_in_executor(
                executor, context.run, handler, message.job_id, attempt
            )
        except Redeliver as redeliver:
            delay: float | None = redeliver.delay
            log.info("worker.redeliver_later", delay_s=delay)
        except Exception as error:  # noqa: BLE001 - e.g. the store is down: try later
            delay = retry_delay * 2 ** min(attempt - 1, 6)
            log.warning("worker.retry_later", error=repr(error), delay_s=delay)
        else:
            delay = None
        # Stop heartbeating before settling the message: an in-progress ack sent after
        # the nak would reach a message JetStream no longer considers ours.
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        if delay is None:
            await delivery.ack()
            return "ack"
        await delivery.nak(delay=delay)
        return "nak"


async def _heartbeat(delivery: Delivery, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):  # a missed beat only shortens the lease
            await delivery.in_progress()


class Fetcher(Protocol):
    """The part of a JetStream pull subscription the worker uses."""

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]: ...  # noqa: ASYNC109 - nats-py's signature

    async def unsubscribe(self) -> None: ...


async def run_consumer(
    fetcher: Fetcher,
    handle: Callable[[Delivery], Coroutine[Any, Any, str]],
    slots: asyncio.Semaphore,
    stop: asyncio.Event,
) -> None:
    """Fetch while slots are free; each delivery runs as its own task."""
    running: set[asyncio.Task[str]] = set()
    while not stop.is_set():
        await slots.acquire()
        free = 1
        while not slots.locked() and free < MAX_FETCH:  # take what else is free
            await slots.acquire()
            free += 1
        try:
            deliveries = await fetcher.fetch(batch=free, timeout=1.0)
        except (NatsTimeoutError, TimeoutError):
            # An idle fetch: nats-py raises its own TimeoutError or asyncio's (builtin)
            # one. Catching only the first is what used to end a consumer's loop.
            deliveries = []
        except Exception as error:  # noqa: BLE001 - a consumer loop must never die
            log.warning("worker.fetch_failed", error=repr(error))
            deliveries = []
            await asyncio.sleep(0.2)
        if stop.is_set():
            # Stopping: what the last fetch brought goes back at once, for others.
            for delivery in deliveries:
                with contextlib.suppress(Exception):
                    await delivery.nak()
            deliveries = []
        for _ in range(free - len(deliveries)):
            slots.release()
        for delivery in deliveries:
            task = asyncio.create_task(handle(delivery))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(lambda _: slots.release())
    # Graceful: finish what was started; new work stays in the stream.
    if running:
        await asyncio.gather(*running, return_exceptions=True)
    with contextlib.suppress(Exception):
        await fetcher.unsubscribe()


async def ensure_consumers(
    js: JetStreamContext, stream: str, configs: list[ConsumerConfig]
) -> None:
    for config in configs:
        await js.add_consumer(stream, config)  # creates, or updates editable fields
