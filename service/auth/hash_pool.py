"""Password hashing on a few threads of its own, behind a bounded queue."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
T = TypeVar("T")


# Linux schedules threads on their own: a nicer hashing thread leaves the CPU to the
# event loop whenever both want it, so requests stay fast while hashes queue.
HASH_THREAD_NICENESS = 10


def _yield_to_requests() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux: as is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


class HashPoolBusyError(Exception):
    """The queue is full, or the wait for a thread ran out: answer now, retry later."""


class HashPool:
    """scrypt takes tens of milliseconds and 32 MiB per check, and releases the GIL.

    On the shared request threads, a burst of logins would hold them all and starve
    every other request. Here at most `threads` hashes run; `queue` more wait, each at
    most `max_wait` seconds, jittered (waiting costs no thread and no CPU, so a flood
    of clients that retry at once waits instead of spinning); past either bound, the
    caller gets HashPoolBusyError.
    """

    def __init__(self, threads: int, queue: int, max_wait: float) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="password-hash",
            initializer=_yield_to_requests,
        )
        self._capacity = threads + queue
        self._max_wait = max_wait
        self._pending = 0
        self._lock = threading.Lock()

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            if self._pending >= self._capacity:
                raise HashPoolBusyError
            self._pending += 1
        try:
            future = self._executor.submit(work, *args, **kwargs)
        except BaseException:
            self._release()
            raise
        # Released when the work ends or is cancelled, even if the caller went away.
        future.add_done_callback(self._release)
        result = asyncio.wrap_future(future)
        # Jittered, so a burst that arrived together does not come back together.
        wait = self._max_wait * random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
        done, _ = await asyncio.wait({result}, timeout=wait)
        if not done and future.cancel():  # still waiting for a thread
            raise HashPoolBusyError
        return await result  # done, or running: it ends within one hash

    def _release(self, _: object = None) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
