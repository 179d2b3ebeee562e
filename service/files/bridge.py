"""Blocking threads and an asyncio loop, joined: a loop thread and bounded byte queues."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import io
import queue
import threading
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

T = TypeVar("T")
QUEUE_CHUNKS = 8  # chunks in flight between the loop and a caller's thread
POLL_SECONDS = 0.1
OPERATION_TIMEOUT = 30.0


class TransferAbortedError(Exception):
    """The other side of a transfer gave up (abort, close, or failure)."""


class LoopThread:
    """An asyncio loop on a daemon thread, and blocking calls into it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.stopped = threading.Event()
        # Transfers block a thread each while they wait on the caller: give them room.
        self.executor = concurrent.futures.ThreadPoolExecutor(
            64, thread_name_prefix=name
        )
        self.loop.set_default_executor(self.executor)
        self._thread = threading.Thread(
            target=self.loop.run_forever, name=name, daemon=True
        )
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self.stopped.is_set():
            coroutine.close()
            raise RuntimeError("the file storage is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(
        self, coroutine: Coroutine[Any, Any, T], timeout: float = OPERATION_TIMEOUT
    ) -> T:
        future = self.submit(coroutine)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        """Give up transfers in progress, cancel what still runs, close the loop."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_tasks(), self.loop).result(10)
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_close_transports(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


async def _cancel_tasks() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_transports() -> None:
    """Close the sockets of this loop that nobody closed, before the loop closes.

    A connect cancelled part-way (nats-py reconnecting while the broker is away, then
    closed) can leave its transport open with no owner; collected after the loop is
    closed, it could no longer close and would only warn. Runs once, at stop.
    """
    loop = asyncio.get_running_loop()
    for leftover in gc.get_objects():
        if (
            isinstance(leftover, asyncio.BaseTransport)
            and getattr(leftover, "_loop", None) is loop
            and not leftover.is_closing()
        ):
            leftover.close()
    await asyncio.sleep(0)  # their connection_lost callbacks run before the loop stops


def hand_over(
    chunks: queue.Queue[bytes | None], item: bytes | None, gave_up: Callable[[], bool]
) -> None:
    """Block until `item` is queued; give up once the peer has stopped listening."""
    while not gave_up():
        try:
            chunks.put(item, timeout=POLL_SECONDS)
        except queue.Full:
            continue
        return
    raise TransferAbortedError


class Pipe(io.RawIOBase):
    """What nats-py's `put` reads from (in its executor): the writer's chunks."""

    def __init__(self, closing: threading.Event) -> None:
        super().__init__()
        self.chunks: queue.Queue[bytes | None] = queue.Queue(QUEUE_CHUNKS)
        self.aborted = threading.Event()
        self._closing = closing  # the storage is closing: no one will write more
        self._pending = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending and not self._ended:
            if self.aborted.is_set() or self._closing.is_set():
                raise TransferAbortedError
            try:
                chunk = self.chunks.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            self._ended = chunk is None
            self._pending = chunk or b""
        if self.aborted.is_set():
            raise TransferAbortedError
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
