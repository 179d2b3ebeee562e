"""Work held in memory: the engine's source in unit tests (and a model of the others).

Like JetStream: a delivery not settled is not delivered again until it is nak'ed;
nak'ed work comes back when the clock reaches its delay, with its attempt counted.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.engine.delayed import DelayedQueue

if TYPE_CHECKING:
    from domain.batch_jobs import BatchJob
    from service.engine.clock import Clock
    from service.engine.work import Step


@dataclass
class MemoryWork:
    job_id: str
    step: Step
    source: InMemoryWorkSource
    attempt: int = 1
    settled: str | None = None
    heartbeats: int = 0
    history: list[str] = field(default_factory=list)
    trace_parent: str | None = None
    created: BatchJob | None = None  # a copy a test gives, as the event store's source

    def ack(self) -> None:
        self._settle("ack")

    def nak(self, delay: float) -> None:
        self._settle(f"nak:{delay:g}")
        self.source.redeliver(self, delay)

    def term(self) -> None:
        self._settle("term")

    def in_progress(self) -> None:
        self.heartbeats += 1

    def _settle(self, how: str) -> None:
        if self.settled is not None:
            raise AssertionError(f"settled twice: {self.settled}, then {how}")
        self.settled = how
        self.history.append(how)
        self.source.settled.append(self)


class InMemoryWorkSource:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._ready: deque[MemoryWork] = deque()
        self._delayed: DelayedQueue[MemoryWork] = DelayedQueue()
        self._lock = threading.Lock()
        self.settled: list[MemoryWork] = []

    def put(
        self, job_id: str, step: Step, created: BatchJob | None = None
    ) -> MemoryWork:
        work = MemoryWork(job_id, step, self, created=created)
        with self._lock:
            self._ready.append(work)
        return work

    def redeliver(self, work: MemoryWork, delay: float) -> None:
        again = MemoryWork(
            work.job_id, work.step, self, work.attempt + 1, history=work.history
        )
        with self._lock:
            self._delayed.push(again, self._clock.monotonic() + delay)

    @property
    def waiting(self) -> int:
        """Deliveries not yet fetched, due or not."""
        with self._lock:
            return len(self._ready) + len(self._delayed)

    def fetch(self, most: int, timeout: float) -> list[MemoryWork]:
        with self._lock:
            self._ready.extend(self._delayed.pop_due(self._clock.monotonic(), most))
            return [self._ready.popleft() for _ in range(min(most, len(self._ready)))]

    def close(self) -> None:
        pass
