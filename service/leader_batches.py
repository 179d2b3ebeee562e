"""Concurrent callers' items written together, by whichever caller comes first.

No extra thread: the first caller becomes the leader and writes what is pending;
when it is done, it hands leadership to the next waiting caller, if any. Items
that arrive while a batch is being written wait and go in the next one, so under
load each write carries many items, and alone an item is written at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    item: T
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    error: BaseException | None = None


class LeaderBatches(Generic[T]):
    """Runs `write(batch)` over the items callers give `run`, `max_batch` at most."""

    def __init__(self, write: Callable[[list[T]], None], max_batch: int = 200) -> None:
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Entry[T]] = []
        self._leading = False

    def run(self, item: T) -> None:
        """Return once `item` was written; raise what its batch's write raised."""
        entry = _Entry(item)
        with self._lock:
            self._pending.append(entry)
            entry.lead = not self._leading
            self._leading = True
        if not entry.lead:
            entry.done.wait()
        if entry.lead:
            self._lead()
        if entry.error is not None:
            raise entry.error

    def _lead(self) -> None:
        with self._lock:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
        try:
            self._write([entry.item for entry in batch])
        except BaseException as error:  # noqa: BLE001 - each caller raises it in its thread
            for entry in batch:
                entry.error = error
        finally:
            with self._lock:
                successor = self._pending[0] if self._pending else None
                self._leading = successor is not None
            for entry in batch:
                entry.done.set()
            if successor is not None:
                successor.lead = True
                successor.done.set()
