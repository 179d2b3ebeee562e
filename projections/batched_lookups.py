"""Lookups by key that arrive together are sent together: one read for many keys.

Under load, many requests each ask the same view for one row by key (GET by id).
Over a network each such read costs a round trip and a statement on both sides;
sent as one `WHERE id = ANY(…)`, a dozen cost about what one does. A lookup asked
while `in_flight` reads are already out waits for the next one, so batches grow
with the load by themselves, and a lone lookup goes at once (the loop's next turn):
an idle server answers as fast as without batching.

Pure asyncio: what a read is, and how its records map to keys, is the caller's
`fetch`. A read that fails fails every lookup it carried; the next batch is sent
anyway.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

K = TypeVar("K")
V = TypeVar("V")


class BatchedLookups(Generic[K, V]):
    """`get(key)` answered by `fetch(keys)`, which returns what it found by key."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
        *,
        in_flight: int,
        max_batch: int,
    ) -> None:
        self._fetch = fetch
        self._in_flight = in_flight
        self._max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self.batches = 0  # reads sent (lookups / batches: the batching's yield)
        self.lookups = 0

    async def get(self, key: K) -> V | None:
        """What `fetch` found for `key`, or None if it found nothing."""
        waiter: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(waiter)
        self.lookups += 1
        self._schedule()
        return await waiter

    def _schedule(self) -> None:
        """Send the waiting keys on the loop's next turn, if a read may go out."""
        if self._scheduled or not self._waiting:
            return
        if len(self._running) >= self._in_flight:
            return  # a read that ends sends what waits
        self._scheduled = True
        asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._scheduled = False
        keys: dict[K, list[asyncio.Future[V | None]]] = {}
        while self._waiting and len(keys) < self._max_batch:
            key = next(iter(self._waiting))
            waiters = [w for w in self._waiting.pop(key) if not w.done()]
            if waiters:  # a lookup given up (cancelled) is not asked for
                keys[key] = waiters
        if keys:
            task = asyncio.get_running_loop().create_task(self._read(keys))
            self._running.add(task)
            task.add_done_callback(self._ended)
            self.batches += 1
        self._schedule()

    async def _read(self, keys: dict[K, list[asyncio.Future[V | None]]]) -> None:
        try:
            found = await self._fetch(list(keys))
        except BaseException as error:
            for waiters in keys.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(_copy_of(error))
            if not isinstance(error, Exception):
                raise
            return
        for key, waiters in keys.items():
            value = found.get(key)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(value)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._schedule()


def _copy_of(error: BaseException) -> BaseException:
    """The failure for one waiter: a cancelled read cancels none of them by name."""
    if isinstance(error, asyncio.CancelledError):
        return ConnectionError("the batched read was cancelled")
    return error
