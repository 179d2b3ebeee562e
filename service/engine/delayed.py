"""Work given back with a delay, due again at a time of the engine's clock."""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

T = TypeVar("T")


class DelayedQueue(Generic[T]):
    """Items ordered by when they are due; not thread-safe (callers hold a lock)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, item: T, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._order), item))

    def pop_due(self, now: float, most: int) -> list[T]:
        due: list[T] = []
        while self._heap and len(due) < most and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def drain(self) -> list[T]:
        items = [item for _, _, item in sorted(self._heap)]
        self._heap.clear()
        return items
