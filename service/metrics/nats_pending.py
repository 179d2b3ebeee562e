"""What waits in JetStream: the stream's messages and the worker consumers' backlog.

Asked at scrape time (and by the system page) on a connection of its own, given
TIMEOUT_SECONDS in all: a broker that is down or cut off makes the figures absent,
never the scrape slow. A result is kept CACHE_SECONDS, so scrapes and page refreshes
do not open a connection each.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass

import nats
import structlog
from nats.js.errors import NotFoundError

from service.settings import Settings, nats_servers
from service.stream_names import WORK_EVENTS, consumer_name

log = structlog.get_logger("metrics")

TIMEOUT_SECONDS = 1.0
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class ConsumerPending:
    name: str
    pending: int  # in the stream, not yet delivered to a worker
    ack_pending: int  # delivered, not yet acknowledged (a job in hand)


@dataclass(frozen=True)
class NatsPending:
    stream_messages: int
    consumers: tuple[ConsumerPending, ...]

    @property
    def consumer_pending(self) -> int:
        return sum(c.pending + c.ack_pending for c in self.consumers)


class NatsPendingProbe:
    def __init__(self, settings: Settings) -> None:
        assert settings.nats_url is not None  # noqa: S101 - built only when configured
        self._servers = nats_servers(settings.nats_url)
        self._stream = settings.nats_stream
        self._consumers = [
            consumer_name(settings.worker_durable, e) for e in WORK_EVENTS
        ]
        self._lock = threading.Lock()
        self._cached: tuple[float, NatsPending | None] = (float("-inf"), None)

    def pending(self) -> NatsPending | None:
        """The figures, or None when the broker did not answer in time."""
        with self._lock:
            at, value = self._cached
            if time.monotonic() - at <= CACHE_SECONDS:
                return value
            try:
                value = asyncio.run(
                    asyncio.wait_for(self._ask(), timeout=TIMEOUT_SECONDS)
                )
            except Exception as error:  # noqa: BLE001 - down, cut off, no stream: absent
                log.info("metrics.nats_unanswered", error=repr(error))
                value = None
            self._cached = (time.monotonic(), value)
            return value

    async def _ask(self) -> NatsPending:
        client = await nats.connect(
            self._servers,
            name="jobstream-metrics",
            connect_timeout=TIMEOUT_SECONDS,
            allow_reconnect=False,
            max_reconnect_attempts=0,
        )
        try:
            js = client.jetstream(timeout=TIMEOUT_SECONDS)
            info = await js.stream_info(self._stream)
            consumers = []
            for name in self._consumers:
                try:
                    consumer = await js.consumer_info(self._stream, name)
                except NotFoundError:
                    continue  # no worker has made it yet
                consumers.append(
                    ConsumerPending(
                        name, consumer.num_pending or 0, consumer.num_ack_pending or 0
                    )
                )
            return NatsPending(info.state.messages, tuple(consumers))
        finally:
            with contextlib.suppress(Exception):
                await client.close()
