"""Coroutines waiting for a read model to reach a position, answered from a thread.

What a runner's `wait_for_async` and the PostgreSQL remote positions' `wait_async`
share: the thread that learns of a new position resolves the futures of the waits
it satisfies, waking each event loop once for all of its coroutines (one
`call_soon_threadsafe` per loop, not one per waiter). The owner guards these
methods with its own lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


class PositionWaiters:
    """Futures, each waiting for its key (a read model's name, or None) to reach a position."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Hashable, int, asyncio.Future[bool]]] = []

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, position: int, key: Hashable = None) -> asyncio.Future[bool]:
        """A future of the running loop's, resolved once `key` reaches `position`."""
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, position, waiter))
        return waiter

    def discard(self, waiter: asyncio.Future[bool]) -> None:
        self._waiting = [entry for entry in self._waiting if entry[2] is not waiter]

    def answer(
        self, reached: Callable[[Hashable, int], bool], *, result: bool = True
    ) -> None:
        """Resolve, with `result`, each waiter whose (key, position) has `reached`."""
        if not self._waiting:
            return
        ready: dict[asyncio.AbstractEventLoop, list[asyncio.Future[bool]]] = {}
        still = []
        for key, position, waiter in self._waiting:
            if reached(key, position):
                ready.setdefault(waiter.get_loop(), []).append(waiter)
            else:
                still.append((key, position, waiter))
        self._waiting = still
        for loop, waiters in ready.items():
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(_resolve, waiters, result)


def _resolve(waiters: list[asyncio.Future[bool]], result: bool) -> None:  # noqa: FBT001 - a callback's arguments
    for waiter in waiters:
        if not waiter.done():  # a cancelled or timed-out wait
            waiter.set_result(result)
