"""Wake-ups for live-feed readers: set from any thread, awaited on the event loop.

A save in this process (`Jobstream.save_listeners`) or one heard from another
(PostgreSQL's NOTIFY, the embedded keeper's wake-up socket: the read-model host's
`also_wake`) wakes every reader at once. Saves nobody tells this process of (other
writers on SQLite, a worker's own application) are caught by one look at the log's
head every `poll_seconds` while anyone reads: one look per process, not per reader,
and from memory where the head is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

import anyio.to_thread
import structlog

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

log = structlog.get_logger("feed")
POLL_SECONDS = 1.0
MOVES_POLL_SECONDS = 0.005  # a memory read on the loop, while anyone reads the feed


class Waiter:
    """One reader's wake-up: an event of its own loop, set from any thread."""

    __slots__ = ("_event", "_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._pending = False  # a wake-up is on its way: a burst of saves sends one

    def set(self) -> None:
        if self._pending:
            return
        self._pending = True
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
            self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        """Before a read: a save from now on wakes the wait after it."""
        self._pending = False
        self._event.clear()

    async def wait(self, seconds: float) -> bool:
        """True if woken, False when `seconds` passed first."""
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


class Wakeups:
    """The readers of one process, woken when events of `topics` may have been stored."""

    def __init__(
        self,
        topics: Collection[str],
        head: Callable[[], int],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._topics = frozenset(topics)
        self._head = head
        self._poll_seconds = poll_seconds
        # A position read from memory that moves with the log (`watch_moves`).
        self._moved: Callable[[], int] | None = None
        # Reentrant: `close` runs in a signal handler, maybe inside `add` on the loop.
        self._lock = threading.RLock()
        self._waiters: set[Waiter] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._watcher_wake: Waiter | None = None
        self.closed = False

    @property
    def readers(self) -> int:
        return len(self._waiters)

    def add(self) -> Waiter:
        """A wake-up for a new reader (on the event loop)."""
        loop = asyncio.get_running_loop()
        waiter = Waiter(loop)
        with self._lock:
            self._waiters.add(waiter)
        if self._watcher is None or self._watcher.done():
            self._watcher_wake = Waiter(loop)
            self._watcher = loop.create_task(self._watch_head(self._watcher_wake))
        return waiter

    def discard(self, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.discard(waiter)
            idle = not self._waiters
        if idle and self._watcher_wake is not None:
            self._watcher_wake.set()  # the watcher ends: nobody reads

    def wake_for(self, topics: Collection[str] | None) -> None:
        """Events of `topics` were stored (None: unknown which)."""
        if not self._waiters:
            return  # nobody reads the feed: a save pays nothing more
        if topics is None or not self._topics.isdisjoint(topics):
            self.wake_all()

    def wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.set()

    def close(self) -> None:
        """The server stops: every reader is woken to end its stream."""
        self.closed = True
        self.wake_all()
        if self._watcher_wake is not None:
            self._watcher_wake.set()

    def watch_moves(self, position: Callable[[], int]) -> None:
        """Also wake the readers when `position` moves, looked at every few ms.

        For a process told of no other's saves but able to read, for free, a
        position that follows them (embedded: the batch-jobs read model's, in the
        mapped positions file): its readers hear the engine's steps within
        MOVES_POLL_SECONDS of their projection, not at the next look at the head.
        """
        self._moved = position

    async def _watch_head(self, wake: Waiter) -> None:
        seen: int | None = None
        moved = self._moved
        moved_seen = None if moved is None else moved()
        loop = asyncio.get_running_loop()
        next_look = 0.0
        while self._waiters and not self.closed:
            if loop.time() >= next_look:
                next_look = loop.time() + self._poll_seconds
                try:
                    head = await anyio.to_thread.run_sync(self._head)
                except Exception as error:  # noqa: BLE001 - the next look may succeed
                    log.warning("feed.head_unreadable", error=repr(error))
                else:
                    if seen is not None and head != seen:
                        self.wake_all()
                    seen = head
            wake.clear()
            if moved is None:
                await wake.wait(self._poll_seconds)
                continue
            await wake.wait(MOVES_POLL_SECONDS)
            position = moved()
            if position != moved_seen:
                moved_seen = position
                self.wake_all()
