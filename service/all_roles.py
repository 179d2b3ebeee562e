"""`jobstream serve` with NATS: every role in one process, jobs over JetStream.

Without JOBSTREAM_NATS_URL, `serve` runs jobs on the in-process processor. With it,
the same process also runs the outbox relay and a worker, so a single machine runs
the distributed path end to end (and can be joined by more workers).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from service.messaging.published_jobs import PublishedJobs
from service.relay_process import running_relay
from service.worker_process import running_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar

    from service.bootstrap.process import Bootstrap


def relay_and_worker(
    bootstrap: Bootstrap,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan running the relay and a worker beside the API.

    Both use the API's parts: the process has one application, one of each store.
    The relay hands the worker the new jobs it publishes (`PublishedJobs`), so a
    new job's delivery starts without reading the job back.
    """
    settings = bootstrap.settings

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        published = PublishedJobs()
        async with (
            running_relay(settings, bootstrap=bootstrap, published_jobs=published),
            running_worker(settings, bootstrap=bootstrap, published_jobs=published),
        ):
            yield

    return lifespan
