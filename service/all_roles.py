"""`jobstream serve` with NATS: the relay and a worker in a process beside the API's.

Without JOBSTREAM_NATS_URL, `serve` runs jobs on the in-process processor. With it,
`serve` forks one more process, the jobs process, that runs the outbox relay and a
worker over a bootstrap of its own (service.commandline.http_server's companion):
the HTTP processes answer requests and keep the read models, the jobs process
publishes and runs jobs, and neither waits for the other's interpreter lock. One
machine still runs the distributed path end to end, and more workers may join it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
from nats.errors import NoServersError

from service.bootstrap.process import Bootstrap
from service.messaging.published_jobs import PublishedJobs
from service.nats_client import FIRST_CONNECT_SECONDS
from service.relay_process import running_relay
from service.signals import run_until_signalled
from service.worker_process import running_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar

    from service.settings import Settings

log = structlog.get_logger("jobs")
# Each read store's connections in the jobs process: the worker reads the catalog
# and the batch-jobs view (the reaper, the sweeper), the relay the view (redrive).
JOBS_POOL_SIZE = 2


@contextlib.asynccontextmanager
async def running_jobs(bootstrap: Bootstrap) -> AsyncIterator[None]:
    """The relay and a worker over one bootstrap, until the context exits.

    The relay hands the worker the new jobs it publishes (`PublishedJobs`), so a
    new job's delivery starts without reading the job back.
    """
    settings = bootstrap.settings
    published = PublishedJobs()
    async with (
        running_relay(settings, bootstrap=bootstrap, published_jobs=published),
        running_worker(settings, bootstrap=bootstrap, published_jobs=published),
    ):
        yield


def relay_and_worker(
    bootstrap: Bootstrap,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan running the relay and a worker inside an API's process.

    For an app that is the whole deployment in one process (the API suites run each
    strategy this way over NATS); `serve` runs them in its jobs process instead.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running_jobs(bootstrap):
            yield

    return lifespan


async def serve_jobs(settings: Settings) -> None:
    """The jobs process of `serve`: relay and worker until SIGTERM or SIGINT.

    Its bootstrap projects nothing: the primary HTTP process keeps the read models,
    and this process, like a worker of its own, waits on the positions it tells.
    """
    bootstrap = Bootstrap(
        settings, project=False, pool_size=JOBS_POOL_SIZE, other_writers=True
    )
    try:
        await asyncio.to_thread(bootstrap.read_models.start)
        await run_until_signalled(running_jobs(bootstrap))
    finally:
        await asyncio.to_thread(bootstrap.close)


def run_jobs_process(settings: Settings) -> int:
    """`serve_jobs` as a forked process's whole life; the exit code."""
    try:
        asyncio.run(serve_jobs(settings))
    except NoServersError:  # what an operator fixes: one line, no traceback
        log.error(  # noqa: TRY400 - the traceback would say nothing more
            "jobs.failed",
            error=f"no NATS server answered within {FIRST_CONNECT_SECONDS:.0f} s"
            " (JOBSTREAM_NATS_URL)",
        )
        return 1
    except Exception as error:  # the primary hears of it by the exit code
        log.exception("jobs.failed", error=repr(error))
        return 1
    return 0
