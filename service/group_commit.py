"""Group commit: concurrent saves share one event-store transaction.

Every save on PostgreSQL takes a table lock and a commit (about 375 single-event saves
a second, stack notes); SQLite pays an fsync per commit. Saves that arrive while another
is being written wait and then go together in one `Application.save(*aggregates)`.

A thread's save (`save`): the first caller becomes the leader and writes what is
pending; when it is done, it hands leadership to the next waiting caller, if any. A
coroutine's save (`save_async`, the API's creates) never blocks its event loop: its
write is led by one writer thread of the commit's own, and every write of a batch
made on one loop is answered with one wake-up of that loop. Without it each request
held a thread of the HTTP pool that slept on an event and woke for its answer: at
32 connections, four to six context switches and GIL hand-offs per create, half of
the server's CPU in the kernel. A batch that fails with a conflict is retried one
writer at a time, so the conflict reaches the caller whose write lost the race, and
nobody else.

Events are collected from the aggregates up front and saved as events: `save()` takes
an aggregate's pending events before it writes, so a failed batch would otherwise leave
nothing to retry with.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError

# Application.save: aggregates in, a Recording per event out (typed loosely for fakes).
Save = Callable[..., Sequence[Any]]


@dataclass
class _Write:
    events: list[Any]
    caller: str | None = None  # the user whose write it is (read-your-writes)
    done: threading.Event | None = None  # a thread's save: set when written
    answer: asyncio.Future[int] | None = None  # a coroutine's: resolved on its loop
    lead: bool = False
    position: int = 0
    error: BaseException | None = None


def _answer(writes: list[_Write]) -> None:
    """On the writes' loop: resolve each coroutine's future (unless it gave up)."""
    for write in writes:
        assert write.answer is not None  # noqa: S101 - only coroutines' writes come here
        if write.answer.done():
            continue  # cancelled: the write stands, nobody waits for its answer
        if write.error is not None:
            write.answer.set_exception(write.error)
        else:
            write.answer.set_result(write.position)


class GroupCommit:
    """Concurrent saves through `save`, as `Application.save` takes them.

    With `callers`, `save` also takes `callers=`: the ids of the users whose writes
    the batch stores (service.event_store records them with the events).
    """

    def __init__(
        self, save: Save, max_batch: int = 200, *, callers: bool = False
    ) -> None:
        self._save = save
        self._callers = callers
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Write] = []
        self._leading = False
        self._writer: ThreadPoolExecutor | None = None  # made by the first coroutine

    def save(self, *aggregates: Any, caller: str | None = None) -> int:
        """Save these aggregates' pending events; return the last one's position.

        `caller`: the user whose write it is. Returns 0 when there was nothing to save.
        """
        write = _Write(
            [event for a in aggregates for event in a.collect_events()],
            caller=caller,
            done=threading.Event(),
        )
        if not write.events:
            return 0
        with self._lock:
            self._pending.append(write)
            write.lead = not self._leading
            self._leading = True
        if not write.lead:
            assert write.done is not None  # noqa: S101 - made above
            write.done.wait()
        if write.lead:
            self._lead()
        if write.error is not None:
            raise write.error
        return write.position

    async def save_async(self, *aggregates: Any, caller: str | None = None) -> int:
        """`save` for a coroutine: its event loop runs on while the batch is written."""
        events = [event for a in aggregates for event in a.collect_events()]
        if not events:
            return 0
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        write = _Write(events, caller=caller, answer=answer)
        with self._lock:
            self._pending.append(write)
            start = not self._leading
            self._leading = True
            if start:
                self._writer_pool().submit(self._lead)
        return await answer

    def close(self) -> None:
        """Stop the writer thread once what was submitted to it is written."""
        with self._lock:
            writer, self._writer = self._writer, None  # a later save makes another
        if writer is not None:
            writer.shutdown(wait=True)

    def _writer_pool(self) -> ThreadPoolExecutor:
        """The one thread that leads batches for coroutines (under `_lock`)."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        return self._writer

    def _lead(self) -> None:
        with self._lock:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
        try:
            self._write(batch)
        finally:
            with self._lock:
                successor = self._pending[0] if self._pending else None
                self._leading = successor is not None
                if successor is not None and successor.done is None:
                    # A coroutine's write leads nothing: the writer thread does.
                    self._writer_pool().submit(self._lead)
            self._finish(batch)
            if successor is not None and successor.done is not None:
                successor.lead = True
                successor.done.set()

    @staticmethod
    def _finish(batch: list[_Write]) -> None:
        """Wake each thread of the batch, and each loop once for all its coroutines."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Write]] = {}
        for write in batch:
            if write.done is not None:
                write.done.set()
            elif write.answer is not None:
                by_loop.setdefault(write.answer.get_loop(), []).append(write)
        for loop, writes in by_loop.items():
            # A closed loop raises RuntimeError: nobody is left to answer.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_answer, writes)

    def _write(self, batch: list[_Write]) -> None:
        if len(batch) == 1:
            self._write_one(batch[0])
            return
        try:
            recordings = self._save(
                *(event for write in batch for event in write.events),
                **self._callers_of(batch),
            )
        except IntegrityError:
            for write in batch:
                self._write_one(write)
            return
        except Exception as error:  # noqa: BLE001 - every writer in the batch hears of it
            for write in batch:
                write.error = error
            return
        # One recording per event, in the order given: each writer's last is its position.
        end = 0
        for write in batch:
            end += len(write.events)
            write.position = recordings[end - 1].notification.id

    def _callers_of(self, batch: list[_Write]) -> dict[str, Any]:
        """The save's `callers=`, where it takes them and the batch has any."""
        callers = {write.caller for write in batch if write.caller is not None}
        return {"callers": callers} if self._callers and callers else {}

    def _write_one(self, write: _Write) -> None:
        try:
            recordings = self._save(*write.events, **self._callers_of([write]))
        except Exception as error:  # noqa: BLE001 - re-raised in the caller's thread
            write.error = error
            return
        write.position = recordings[-1].notification.id
