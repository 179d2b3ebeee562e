"""Work JetStream lost, published again: no job waits for a worker forever.

The relay publishes a job's batch.created and batch.confirmed, and moves on once
JetStream acknowledged them. The message can still be lost after that: a server that
crashes before writing it to disk (nats-server's default `sync_interval`), stream
limits that drop messages no worker took yet, a consumer that passes over messages
after its leader moved. The job then waits in `created` or `confirmed`, and no worker
is ever told; the reaper does not see it, as it has no lease to lapse.

While it leads, the relay sweeps (`WorkRedrive.sweep`): when a work consumer holds
nothing, neither undelivered nor unacknowledged, the jobs that have waited for that
step longer than the bound with no lease cannot be queued behind anything, so their
event is published again, under a Nats-Msg-Id of its own so that the stream keeps it.
A worker treats the copy as any redelivery: a job no longer in the status the step
needs is left alone. A backlog never looks lost: its consumer holds messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from eventsourcing.application import project_aggregate
from nats.js.errors import NotFoundError

from domain.batch_jobs import BatchJob, BatchJobStatus
from projections.store_internals import notification_id_of
from service.engine.clock import SYSTEM_CLOCK
from service.messaging import envelope
from service.stream_names import consumer_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from nats.js.client import JetStreamContext

    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.engine.clock import Clock

log = structlog.get_logger("relay")
PAGE = 100  # jobs looked at per sweep, longest waiting first
COPY_MARK = ":redrive:"  # in a copy's Nats-Msg-Id: `<event id>:redrive:<when>`
# The event a waiting job's work starts from, by the status it waits in.
WORK_EVENTS: dict[BatchJobStatus, type[BatchJob.Event]] = {
    BatchJobStatus.CREATED: BatchJob.Created,
    BatchJobStatus.CONFIRMED: BatchJob.Confirmed,
}


def is_copy(message_id: str) -> bool:
    """Whether a message with this Nats-Msg-Id is a redrive's copy of an event."""
    return COPY_MARK in message_id


def sweep_interval(after: float) -> float:
    """Often enough that a lost job moves soon after its bound, at most every 30 s."""
    return min(30.0, max(0.5, after / 4))


class WorkRedrive:
    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        app: Jobstream,
        view: BatchJobsView,
        js: JetStreamContext,
        stream: str,
        subject_prefix: str,
        durable: str,
        after: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """`after`: seconds a job waits for a worker before its work may be lost."""
        self._app = app
        self._view = view
        self._js = js
        self._stream = stream
        self._prefix = subject_prefix
        self._durable = durable
        self._after = after
        self._clock = clock
        self.redriven = 0  # messages published again, since the start

    async def sweep(self, published: int) -> list[str]:
        """Publish again the work of each job it finds lost; their ids.

        `published`: the relay's position. A later event is not lost, only not sent.
        """
        idle = await self._idle_work_events()
        if not idle:
            return []
        before = self._clock.now() - timedelta(seconds=self._after)
        waiting = await asyncio.to_thread(self._view.waiting_for_work, before, PAGE)
        redriven = []
        for job_id in waiting:
            found = await asyncio.to_thread(self._work_event, job_id)
            if found is None:
                continue
            position, event = found
            if position > published or event.NAME not in idle:
                continue
            message = envelope.outgoing(self._prefix, position, event)
            # Its own id: under the event's, the stream would drop it as a copy.
            copy_id = f"{message.event_id}{COPY_MARK}{self._clock.now().timestamp()}"
            await self._js.publish(
                message.subject, message.data, headers={"Nats-Msg-Id": copy_id}
            )
            self.redriven += 1
            redriven.append(job_id)
            log.warning(
                "relay.work_redriven",
                job_id=job_id,
                work=event.NAME,
                position=position,
                waited_over_s=self._after,
            )
        return redriven

    async def _idle_work_events(self) -> set[str]:
        """The work events whose consumer holds no message, undelivered or in flight."""
        idle = set()
        for cls in WORK_EVENTS.values():
            name = consumer_name(self._durable, cls.NAME)
            try:
                info = await self._js.consumer_info(self._stream, name)
            except NotFoundError:
                continue  # no worker ever started: the stream keeps the messages
            if not info.num_pending and not info.num_ack_pending:
                idle.add(cls.NAME)
        return idle

    def _work_event(self, job_id: str) -> tuple[int, BatchJob.Event] | None:
        """The event a waiting job's work starts from, and its position.

        None if the job, as stored, no longer waits for a worker.
        """
        # One read of the history gives both the job and the event.
        events = list(self._app.events.get(job_id))
        job: BatchJob | None = project_aggregate(None, events)
        if job is None or job.lease_expires_at is not None:
            return None
        wanted = WORK_EVENTS.get(job.status)
        last = next(
            (e for e in reversed(events) if wanted and isinstance(e, wanted)), None
        )
        if last is None:
            return None
        position = notification_id_of(
            self._app.recorder, job_id, last.originator_version
        )
        return None if position is None else (position, last)


async def redriving(
    redrive: WorkRedrive,
    published: Callable[[], int | None],
    stop: asyncio.Event,
    interval: float,
) -> None:
    """Sweep every `interval` seconds until `stop` while this relay leads.

    `published()`: the relay's position, None when it does not lead.
    """
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
            return
        position = published()
        if position is None:
            continue
        try:
            await redrive.sweep(position)
        except Exception as error:  # noqa: BLE001 - NATS or the database away: next time
            log.warning("relay.redrive_failed", error=repr(error))
