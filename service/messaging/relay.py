"""The outbox relay: the event store's notification log, in order, to JetStream.

It publishes a page of events, waits for JetStream's acks, and only then records its
position. A crash between the two re-publishes that page after a restart, and
JetStream drops the copies by their Nats-Msg-Id (the event's id). One relay leads at
a time (service.messaging.leadership); it wakes when events are saved, so an event
reaches NATS within milliseconds.

The Nats-Msg-Id is not enough on its own: a clustered stream whose leader changed
may not know the ids its old leader stored (nats-server before 2.11 loses them, and
any server once the duplicate window passed). So whenever what is stored is in
doubt (a page whose acks did not all come, a relay taking the lead from another),
the relay reads the stream's tail first and publishes only the events it lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import msgspec
import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError

from domain.batch_jobs import EVENT_CLASSES, BatchJob
from domain.catalog.products import Product
from domain.catalog.registry import AGGREGATE_OF_EVENT
from service import tracing
from service.messaging import envelope
from service.retry import is_transient

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder
    from nats.js.api import PubAck
    from nats.js.client import JetStreamContext

    from service.application import Jobstream
    from service.messaging.leadership import Leadership
    from service.messaging.published_jobs import PublishedJobs

log = structlog.get_logger("relay")
# Every batch-job event, and the catalog's products (their variants and prices too).
CATALOG_EVENT_CLASSES = tuple(
    cls for cls, aggregate in AGGREGATE_OF_EVENT.items() if aggregate is Product
)
TOPICS = tuple(get_topic(cls) for cls in (*EVENT_CLASSES, *CATALOG_EVENT_CLASSES))
# How far back from the stream's end a relay in doubt looks for a page's events, in
# pages: any of them further back is published again, for the duplicate window.
TAIL_PAGES = 4


class _Positioned(msgspec.Struct):
    """What the tail read needs of any envelope: the event store's position."""

    position: int


_position_decoder = msgspec.json.Decoder(_Positioned)


class Relay:
    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        app: Jobstream,
        tracking: TrackingRecorder,
        js: JetStreamContext,
        subject_prefix: str,
        leadership: Leadership,
        stream: str | None = None,
        batch_size: int = 500,
        # A leader node lost with acks in flight: they never come. Waiting longer
        # than an election (a few seconds) only delays the page's re-publish,
        # which the stream deduplicates by Nats-Msg-Id.
        ack_timeout: float = 5.0,
        idle_seconds: float = 1.0,
        published_jobs: PublishedJobs | None = None,
    ) -> None:
        """`published_jobs`: where new jobs go for a worker in this process."""
        self._app = app
        self._tracking = tracking
        self._js = js
        self._prefix = subject_prefix
        self._leadership = leadership
        self._stream = stream  # None: the Nats-Msg-Id alone keeps copies out
        self._batch_size = batch_size
        self._ack_timeout = ack_timeout
        self._idle_seconds = idle_seconds
        self._published_jobs = published_jobs
        self.position = 0  # the last notification JetStream acknowledged
        self.published = 0  # messages this relay sent (re-publishes included)
        self._in_lead = False
        # Whether the stream may hold events past `position`: read its tail first.
        self._in_doubt = True

    @property
    def leading(self) -> bool:
        """Whether this relay publishes now (it leads and its leadership holds)."""
        return self._in_lead and self._leadership.leads()

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Lead when the lock is free; publish until stopped or the lock is lost."""
        while not stop.is_set():
            if not await self._leadership.acquire(stop):
                return
            self._in_lead = True
            try:
                await self._lead(stop, wake)
            finally:
                self._in_lead = False
                await self._leadership.release()

    async def _lead(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        self.position = await asyncio.to_thread(self._recorded_position)
        self._in_doubt = True  # the last leader may have stopped mid-page
        while not stop.is_set():
            if not await self._leadership.still_held():
                return  # the leadership said why; stand by again
            wake.clear()
            try:
                if await self.publish_once():
                    continue
            except Exception as error:
                # NATS or the database away (a cut, a restart): the same page again
                # once it is back, if this relay still leads then.
                if not isinstance(error, (NatsError, TimeoutError, OSError)) and not (
                    is_transient(error)
                ):
                    raise
                log.warning("relay.publish_failed", error=repr(error))
                await _first_of(stop, None, 1.0)  # then try the same page again
                continue
            await _first_of(stop, wake, self._idle_seconds)

    async def publish_once(self) -> int:
        """Publish the next page and record it; return how many events it held."""
        page = await asyncio.to_thread(
            self._app.recorder.select_notifications,
            start=self.position,
            limit=self._batch_size,
            topics=TOPICS,
            inclusive_of_start=False,
        )
        if not page:
            return 0
        # Reading the page may have outlasted the lease (a database cut): publish
        # nothing a newer leader may be publishing too.
        if not await self._leadership.still_held():
            return 0
        stored = await self._stored_of(page[0].id) if self._in_doubt else set()
        self._in_doubt = True  # until every ack is in
        acks = []
        for notification in page:
            if notification.id in stored:
                continue
            event = self._app.mapper.to_domain_event(notification)
            message = envelope.outgoing(self._prefix, notification.id, event)
            if self._published_jobs is not None and isinstance(event, BatchJob.Created):
                self._published_jobs.published(notification.id, event)
            headers = {"Nats-Msg-Id": message.event_id}
            if tracing.enabled and isinstance(event, BatchJob.Created):
                acks.append(
                    await self._publish_traced(
                        event, message.subject, message.data, headers
                    )
                )
            else:
                acks.append(
                    await self._js.publish_async(
                        message.subject, message.data, headers=headers
                    )
                )
        self.published += len(acks)
        answers = await asyncio.wait_for(asyncio.gather(*acks), self._ack_timeout)
        await asyncio.to_thread(self._record, page[-1].id)
        self._in_doubt = False
        duplicates = sum(1 for answer in answers if answer.duplicate)
        log.info(
            "relay.published",
            count=len(acks),
            position=page[-1].id,
            duplicates=duplicates,
            already_stored=len(stored),
        )
        return len(page)

    async def _stored_of(self, first: int) -> set[int]:
        """Positions from `first` on that the stream holds, read from its end back.

        The relay publishes in position order, so the read stops at the first
        message before `first`, or after TAIL_PAGES pages' worth of messages.
        """
        if self._stream is None:
            return set()
        info = await self._js.stream_info(self._stream)
        stored: set[int] = set()
        sequence, oldest = info.state.last_seq, info.state.first_seq
        looked = 0
        while sequence >= max(oldest, 1) and looked < TAIL_PAGES * self._batch_size:
            try:
                message = await self._js.get_msg(self._stream, sequence)
            except NotFoundError:  # deleted, or aged out meanwhile
                sequence -= 1
                continue
            sequence -= 1
            looked += 1
            try:
                position = _position_decoder.decode(message.data or b"").position
            except msgspec.DecodeError:
                continue  # not an envelope: nothing of ours
            if position < first:
                break
            stored.add(position)
        if stored:
            log.info("relay.tail_read", first=first, stored=len(stored), looked=looked)
        return stored

    async def _publish_traced(
        self,
        event: BatchJob.Created,
        subject: str,
        data: bytes,
        headers: dict[str, str],
    ) -> asyncio.Future[PubAck]:
        """A new job's event, in a span of its trace whose context the message carries."""
        if event.trace_parent is None:  # created where tracing was off
            return await self._js.publish_async(subject, data, headers=headers)
        from service.tracing import spans  # noqa: PLC0415 - only when tracing

        with spans.publishing(
            event.trace_parent, subject, event.originator_id, event.type
        ) as trace_headers:
            return await self._js.publish_async(
                subject, data, headers={**headers, **trace_headers}
            )

    def _recorded_position(self) -> int:
        return self._tracking.max_tracking_id(self._app.name) or 0

    def _record(self, position: int) -> None:
        try:
            self._tracking.insert_tracking(Tracking(self._app.name, position))
        except IntegrityError:
            position = self._recorded_position()  # recorded further already
        self.position = max(self.position, position)


async def _first_of(
    stop: asyncio.Event, wake: asyncio.Event | None, seconds: float
) -> None:
    """Sleep until `stop` or `wake` is set, or `seconds` pass."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait(
            waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
    for waiter in waiters:
        waiter.cancel()
