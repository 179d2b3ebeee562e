"""How every Jobstream process connects to NATS: reconnect for ever, notice a dead link.

nats-py's defaults give up after 60 reconnect attempts (two minutes), after which a
connection stays closed and every call on it fails: a broker down a little longer
would need the process restarted. Here a connection, once made, reconnects until it
is closed, to any node of the cluster (JOBSTREAM_NATS_URL may list several; the client
also learns the others from the server). A node that stops answering without closing
the socket is left within PING_INTERVAL * (MAX_OUTSTANDING_PINGS + 1) seconds (6 s).
Stream and bucket creation goes through `create_or_get`, race-free across processes.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, TypeVar

import structlog
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js.errors import APIError

from service.nats_failover import FailoverOrder
from service.retry import Backoff, is_transient

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

T = TypeVar("T")

log = structlog.get_logger("nats")

# A node that goes silent (cut off, not closed) is left within 4-6 s: a ping every 2 s,
# and the third one due while two are unanswered marks the link stale. The client
# then reconnects to another node of the list: the others, in random order, before
# the one it lost (FailoverOrder).
PING_INTERVAL = 2  # seconds between the client's pings
MAX_OUTSTANDING_PINGS = 2  # pings unanswered before the link counts as dead
RECONNECT_TIME_WAIT = 1  # seconds before trying the same server again
CONNECT_TIMEOUT = 2  # seconds for one TCP connect and handshake
# Creating a stream or bucket on a cluster that elects a leader, or racing another
# process creating it: looked at again for this long.
CREATE_BACKOFF = Backoff(first=0.2, most=2.0, budget=30.0)
# JetStream's "stream name already in use": another process created it first.
STREAM_NAME_IN_USE = 10058
# What a create that loses the race may get instead, while the winner's stream is
# being placed: its subjects are taken (a real overlap still fails, after the budget).
SUBJECTS_OVERLAP = 10065
RACED_CREATE = frozenset({STREAM_NAME_IN_USE, SUBJECTS_OVERLAP})
# A process's first connection: long enough to ride out a broker starting with it,
# short enough that a wrong URL is reported (the command then exits).
FIRST_CONNECT_SECONDS = 120.0


async def connect(
    servers: Sequence[str],
    name: str,
    *,
    first_connect_seconds: float = FIRST_CONNECT_SECONDS,
) -> Client:
    """A connection to one of `servers`; NoServersError if none answers in time."""
    client = Client()
    failover = FailoverOrder(round_pause=RECONNECT_TIME_WAIT)

    async def error_cb(error: Exception) -> None:
        # Each failed attempt while the broker is away: the disconnect says it once.
        log.debug("nats.error", client=name, error=repr(error))

    async def disconnected_cb() -> None:
        failover.disconnected()
        if not client.is_closed:  # closed on purpose: nothing to report
            log.warning("nats.disconnected", client=name)

    async def reconnected_cb() -> None:
        url = client.connected_url
        failover.connected(url.netloc if url else None)
        log.info("nats.reconnected", client=name, server=url.netloc if url else None)

    try:
        # With unbounded attempts nats-py's first connect would never end: bounded here.
        await asyncio.wait_for(
            client.connect(
                list(servers),
                name=name,
                connect_timeout=CONNECT_TIMEOUT,
                reconnect_time_wait=RECONNECT_TIME_WAIT,
                max_reconnect_attempts=-1,  # never give up once connected
                ping_interval=PING_INTERVAL,
                max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                error_cb=error_cb,
                disconnected_cb=disconnected_cb,
                reconnected_cb=reconnected_cb,
                reconnect_to_server_handler=failover,
            ),
            first_connect_seconds,
        )
        url = client.connected_url
        failover.connected(url.netloc if url else None)
    except TimeoutError:
        await client.close()
        raise NoServersError from None
    except BaseException:
        await client.close()
        raise
    return client


async def create_or_get(
    get: Callable[[], Awaitable[T]],
    create: Callable[[], Awaitable[T]],
    *,
    missing: type[Exception],
    what: str,
) -> T:
    """`get()`, or `create()` what `get` found `missing`, race-free across processes.

    Processes starting together on a fresh deployment all find it missing and all
    create it: a create that loses the race ("already in use") or times out (a
    replicated stream is placed while a leader is elected; it may exist after all)
    is followed by another `get`, with backoff, until CREATE_BACKOFF's budget ends.
    """
    deadline = time.monotonic() + CREATE_BACKOFF.budget
    for pause in CREATE_BACKOFF.pauses():
        try:
            try:
                return await get()
            except missing:
                return await create()
        except Exception as error:
            raced = isinstance(error, APIError) and error.err_code in RACED_CREATE
            if (
                not (raced or is_transient(error))
                or time.monotonic() + pause > deadline
            ):
                raise
            log.info(
                "nats.create_raced",
                what=what,
                error=repr(error),
                retry_in_s=round(pause, 2),
            )
            await asyncio.sleep(pause)
    raise AssertionError  # pragma: no cover - pauses() never ends


async def disconnect(nc: Client) -> None:
    """Drain `nc` (flush what was published, finish subscriptions), else close it.

    A process stopping while its connection is reconnecting (its node cut off) cannot
    drain: nats-py raises. What it published unacked is the outbox's to send again,
    so it closes instead of dying on the way out with a traceback.
    """
    if nc.is_closed:
        return
    try:
        await nc.drain()
    except Exception as error:  # noqa: BLE001 - any failure to drain: close instead
        log.warning("nats.drain_failed", error=repr(error))
        await nc.close()
