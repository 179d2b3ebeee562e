"""Transient infrastructure errors, told apart from a job's own, retried with backoff.

NATS going away (a restart, a node of a cluster killed, a JetStream leader election)
or PostgreSQL restarting is not a job's fault: the operation is tried again after a
growing pause, up to a time budget, and only then does the error count. Everything
else is raised at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import eventsourcing.persistence
import nats.errors
import nats.js.errors
import psycopg
import structlog

from service.ports import ReadModelLagError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

T = TypeVar("T")
log = structlog.get_logger("retry")

# The client's link to the broker is down or stalled, or JetStream has no leader to
# answer (yet): each clears once a server (or a new leader) is back.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    nats.errors.NoServersError,  # "nats: no servers available for connection"
    nats.errors.TimeoutError,  # no reply in time (also nats.js FetchTimeoutError)
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,  # and UnexpectedEOF
    nats.errors.OutboundBufferLimitError,  # publishes buffered while reconnecting
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,  # a publish nobody stored (no leader)
    nats.js.errors.ServiceUnavailableError,  # JetStream's 503 "temporarily unavailable"
    # The socket itself was cut mid-write: asyncio's streams raise "Connection lost"
    # (ConnectionResetError) from a flush while the broker goes away.
    ConnectionError,
    # The database's connection was cut or refused (a restart, a failover).
    psycopg.OperationalError,
    eventsourcing.persistence.OperationalError,
    # A wait for the read model that ran out (it catches up once the database answers).
    ReadModelLagError,
)
# JetStream's answers while its cluster elects a leader or lacks a quorum: the
# request reached a server that cannot serve it yet ("JetStream system temporarily
# unavailable", 10008; "JetStream cluster not current"/no leader yet, 10009/10073...).
_TRANSIENT_JS_CODES = frozenset({10008})
_TRANSIENT_JS_TEXT = ("temporarily unavailable", "no leader", "not current")


class TransientError(Exception):
    """Raised by adapters for an outage of their own finding (a call that timed out)."""


def is_transient(error: BaseException) -> bool:
    """An outage of the broker or database, not a fault of the job or request."""
    if isinstance(error, (TransientError, *_TRANSIENT_TYPES)):
        return True
    if not isinstance(error, nats.js.errors.APIError):
        return False
    description = (error.description or "").lower()
    return (
        error.code == 503  # noqa: PLR2004 - HTTP's "unavailable"
        or error.err_code in _TRANSIENT_JS_CODES
        or any(text in description for text in _TRANSIENT_JS_TEXT)
    )


@dataclass(frozen=True)
class Backoff:
    """Pauses growing from `first` by `factor` up to `most`, for `budget` seconds.

    Each pause has ±20 % jitter, so clients cut off together do not return together.
    """

    first: float
    most: float
    budget: float
    factor: float = 2.0

    def pauses(self) -> Iterator[float]:
        pause = self.first
        while True:
            yield pause * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrets
            pause = min(pause * self.factor, self.most)


# One call to the object store (an HTTP request may be waiting on it): a few seconds,
# enough for a client to reconnect to another node or for a leader election.
CALL_BACKOFF = Backoff(first=0.2, most=2.0, budget=10.0)
# A job's step, re-run while the job holds its lease (renewed meanwhile): an outage of
# two minutes costs the job time, not its result.
JOB_BACKOFF = Backoff(first=0.5, most=10.0, budget=120.0)


def retry_transient(
    operation: Callable[[], T],
    *,
    what: str,
    backoff: Backoff,
    give_up: Callable[[], bool] = lambda: False,
) -> T:
    """`operation()`, tried again after each transient error while the budget lasts.

    `give_up()` is asked before each new try (a job canceled meanwhile): True raises
    the last error at once. A non-transient error is raised as it is.
    """
    deadline = time.monotonic() + backoff.budget
    for tries, pause in enumerate(backoff.pauses(), start=1):
        try:
            return operation()
        except Exception as error:
            if not _retries(error, what=what, tries=tries, pause=pause, until=deadline):
                raise
            time.sleep(pause)
            if give_up():
                raise
    raise AssertionError  # pragma: no cover - pauses() never ends


async def retry_transient_async(
    operation: Callable[[], Awaitable[T]], *, what: str, backoff: Backoff
) -> T:
    """`retry_transient` for a coroutine, on an event loop."""
    deadline = time.monotonic() + backoff.budget
    for tries, pause in enumerate(backoff.pauses(), start=1):
        try:
            return await operation()
        except Exception as error:
            if not _retries(error, what=what, tries=tries, pause=pause, until=deadline):
                raise
            await asyncio.sleep(pause)
    raise AssertionError  # pragma: no cover - pauses() never ends


def _retries(
    error: Exception, *, what: str, tries: int, pause: float, until: float
) -> bool:
    """Whether to try again after `pause`: a transient error within the budget (logged)."""
    if not is_transient(error):
        return False
    if time.monotonic() + pause > until:
        log.warning("retry.gave_up", what=what, tries=tries, error=_describe(error))
        return False
    log.warning(
        "retry.transient_error",
        what=what,
        tries=tries,
        error=_describe(error),
        retry_in_s=round(pause, 2),
    )
    return True


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
