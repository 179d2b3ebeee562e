"""GET by id: answer on the event loop when the read model is current, else on a thread.

A thread hop costs about a fifth of a GET's CPU. When the view is embedded (a local
SQLite file: reads take tens of microseconds and never wait for a writer in WAL
mode) and already has every stored event, the read runs inline; otherwise, or on
PostgreSQL (a network round trip would stall the loop), the catch-up wait and the
read run on a worker thread as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    from service.api_services.batch_jobs import BatchJobsService

T = TypeVar("T")


def readable_now(jobs: BatchJobsService) -> bool:
    """The read may be answered inline, now: the one place that decides it.

    Asked by read_when_current and by the hot lane (hot_reads), which answers
    only when this says yes and leaves every other request to the handler.
    """
    return jobs.read_model_is_current()


async def read_when_current(jobs: BatchJobsService, read: Callable[[], T]) -> T:
    """`read()` once the view has every event stored when the request began."""
    if readable_now(jobs):
        return read()

    def caught_up_read() -> T:
        jobs.catch_up()
        return read()

    return await anyio.to_thread.run_sync(caught_up_read)
