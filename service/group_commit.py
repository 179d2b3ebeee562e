"""Group commit: concurrent saves share one event-store transaction.

Every save on PostgreSQL takes a table lock and a commit (about 375 single-event saves
a second, stack notes); SQLite pays an fsync per commit. Saves that arrive while another
is being written wait and then go together in one `Application.save(*aggregates)`.

No extra thread: the first caller becomes the leader and writes what is pending; when
it is done, it hands leadership to the next waiting caller, if any. A batch that fails
with a conflict is retried one writer at a time, so the conflict reaches the caller
whose write lost the race, and nobody else.

Events are collected from the aggregates up front and saved as events: `save()` takes
an aggregate's pending events before it writes, so a failed batch would otherwise leave
nothing to retry with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

# Application.save: aggregates in, a Recording per event out (typed loosely for fakes).
Save = Callable[..., Sequence[Any]]


@dataclass
class _Write:
    events: list[Any]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    position: int = 0
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, save: Save, max_batch: int = 200) -> None:
        self._save = save
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Write] = []
        self._leading = False

    def save(self, *aggregates: Any) -> int:
        """Save these aggregates' pending events; return the last one's position.

        Returns 0 when there was nothing to save.
        """
        write = _Write([event for a in aggregates for event in a.collect_events()])
        if not write.events:
            return 0
        with self._lock:
            self._pending.append(write)
            write.lead = not self._leading
            self._leading = True
        if not write.lead:
            write.done.wait()
        if write.lead:
            self._lead()
        if write.error is not None:
            raise write.error
        return write.position

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
            for write in batch:
                write.done.set()
            if successor is not None:
                successor.lead = True
                successor.done.set()

    def _write(self, batch: list[_Write]) -> None:
        if len(batch) == 1:
            self._write_one(batch[0])
            return
        try:
            recordings = self._save(
                *(event for write in batch for event in write.events)
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

    def _write_one(self, write: _Write) -> None:
        try:
            recordings = self._save(*write.events)
        except Exception as error:  # noqa: BLE001 - re-raised in the caller's thread
            write.error = error
            return
        write.position = recordings[-1].notification.id
