"""GET by id and the list: answer on the event loop when the read model is current.

A thread hop costs about a fifth of a GET's CPU. When the view already has what the
caller's read must show (known without I/O: `readable_now`), the read need not
wait. Embedded (a local SQLite file: reads take tens of microseconds and never wait
for a writer in WAL mode), the handler's own sync read then runs inline. On
PostgreSQL a sync read is a network round trip that would stall the loop: the
handler's reads, the catch-up wait and the read, always run on a worker thread; only
the hot lane (hot_reads) reads inline there, through the view's awaitable reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    from service.api_services.batch_jobs import BatchJobsService

T = TypeVar("T")


def readable_now(jobs: BatchJobsService, caller_id: str) -> bool:
    """The caller's read may run now, without waiting: the one place that decides it.

    Asked by read_when_current and by the hot lane (hot_reads), which answers
    only when this says yes and leaves every other request to the handler.
    """
    return jobs.read_model_is_current(caller_id)


async def read_when_current(
    jobs: BatchJobsService, caller_id: str, read: Callable[[], T]
) -> T:
    """`read()` once the view has what the caller must see (BatchJobsService.catch_up).

    Inline only where the view is local (it has no awaitable reads).
    """
    if jobs.awaitable_reads is None and readable_now(jobs, caller_id):
        return read()

    def caught_up_read() -> T:
        jobs.catch_up(caller_id)
        return read()

    return await anyio.to_thread.run_sync(caught_up_read)


async def read_when_complete(jobs: BatchJobsService, read: Callable[[], T]) -> T:
    """`read()` once the view has every event stored when the request began.

    For a job the caller's read did not find: it may be stored (by the engine, a
    retry, another process) and not projected yet, and a 404 must not be answered
    for a job that exists.
    """

    def caught_up_read() -> T:
        jobs.catch_up(None)
        return read()

    return await anyio.to_thread.run_sync(caught_up_read)
