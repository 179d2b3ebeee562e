"""GET /admin/jobstream/feed: batch-job changes as Server-Sent Events, live.

Each message is one event, its SSE `id` the event store's position, so a client
that reconnects (EventSource sends `Last-Event-ID`) resumes after the last one it
got, with no gap and no repeat. The stream reads the store a page at a time off the
event loop and waits for a save between pages (service.feed.wakeups); it ends when
the client goes away (its wake-up is dropped at once) and when the server stops.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

import anyio.to_thread
import msgspec
import structlog
from litestar import Controller, Request, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.response import Stream

from domain.errors import InvalidDataError
from domain.users import User
from service.api_services.feed import FeedService
from service.feed.cursor import FeedCursor, FeedItem
from service.http import openapi
from service.http.dependencies import services_of
from service.retry import is_transient

log = structlog.get_logger("feed")
KEEP_ALIVE = b": keep-alive\n\n"
OUTAGE_RETRY_SECONDS = 1.0  # between reads while the store is unreachable
QUERY_PARAMETERS = frozenset({"after", "job_id"})
_encode = msgspec.json.Encoder().encode


def provide_feed(state: State) -> FeedService:
    return services_of(state).feed


def frame(item: FeedItem) -> bytes:
    """One SSE message: `id`, `event: batch_job`, one line of JSON data."""
    data = _encode(item.change)
    return b"id: %d\nevent: batch_job\ndata: %s\n\n" % (item.position, data)


def position_of(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise InvalidDataError(
            f"{name} must be an event's position: a whole number, 0 or more"
        )
    return int(value)


def feed_start(request: Request[Any, Any, Any]) -> tuple[int | None, str | None]:
    """The position to resume after (None: from now) and the job to follow, if any."""
    params = request.query_params
    for name in params:
        if name not in QUERY_PARAMETERS:
            raise InvalidDataError(f"property {name} should not exist")
    job_id = params.get("job_id") or None
    last_event_id = request.headers.get("last-event-id")
    if last_event_id is not None:  # a reconnect: it wins over the URL's `after`
        return position_of(last_event_id, "Last-Event-ID"), job_id
    after = params.get("after")
    return (None if after is None else position_of(after, "after")), job_id


async def messages(
    feed: FeedService, cursor: FeedCursor
) -> AsyncGenerator[bytes, None]:
    """The stream's chunks: each page's messages, or a keep-alive when quiet."""
    waiter = feed.subscribe()
    quiet_since = time.monotonic()
    try:
        while not feed.closed:
            waiter.clear()  # before the read: a save from now on wakes the wait
            try:
                items, more = await anyio.to_thread.run_sync(cursor.next_page)
            except Exception as error:
                if not is_transient(error):
                    log.exception("feed.read_failed", position=cursor.position)
                    return  # the client reconnects with its Last-Event-ID
                log.warning("feed.store_unreachable", error=repr(error))
                items, more = [], False
                await waiter.wait(OUTAGE_RETRY_SECONDS)
            if items:
                yield b"".join(frame(item) for item in items)
                quiet_since = time.monotonic()
            if more:
                continue
            left = feed.keepalive_seconds - (time.monotonic() - quiet_since)
            if left <= 0:
                yield KEEP_ALIVE
                quiet_since = time.monotonic()
            else:
                await waiter.wait(left)
    finally:
        feed.unsubscribe(waiter)


class FeedController(Controller):
    path = "/admin/jobstream/feed"
    tags = ["Jobstream operator"]
    security = openapi.LOGGED_IN
    dependencies = {"feed": Provide(provide_feed, sync_to_thread=False)}

    @get(
        operation_id="GetJobstreamFeed",
        media_type="text/event-stream",
        operation_class=openapi.documented(
            [
                openapi.query(
                    "after",
                    "Resume after this event store position (the last message's "
                    "id); the Last-Event-ID header wins over it. Default: from now.",
                ),
                openapi.query("job_id", "Only this batch job's events."),
            ]
        ),
        responses=openapi.errors(400, 401, 404),
    )
    async def feed(
        self,
        request: Request[Any, Any, Any],
        feed: NamedDependency[FeedService],
        caller: NamedDependency[User],
    ) -> Stream:
        """Batch-job changes as they happen (text/event-stream), resumable.

        Every message is `event: batch_job` with the event store position as its
        `id` and, as `data`, the job's id, type, status, version, the event's name,
        the job's creator, the event's time and the job's result after it. Admins
        see every user's jobs, other roles their own. `: keep-alive` comments
        every 15 s keep proxies from closing a quiet stream.
        """
        after, job_id = feed_start(request)
        cursor = await anyio.to_thread.run_sync(feed.open, caller, after, job_id)
        chunks = messages(feed, cursor)
        return Stream(
            chunks,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            # Run however the stream ended (a disconnect cancels it): its wake-up
            # is dropped now, not whenever the generator is collected.
            background=BackgroundTask(chunks.aclose),
        )
