"""Where read models kept by another process stand, and waiting for them to move.

An API process without projections (`jobstream api`) answers a read only once the
read model has folded every event stored when the request began, and after a write
waits until the model shows it. The model is kept by another process
(`jobstream projections`), so its position must cross processes. `RemotePositions`
is that crossing, and the host (service.read_models.host) only ever calls it:

- `PollingRemotePositions` reads the recorded tracking position every few
  milliseconds (what every backend can do; a query per look).
- `NotifiedRemotePositions` (PostgreSQL) is told: the projecting process NOTIFYs
  `<model>:<position>` on `POSITIONS_CHANNEL` after each commit
  (service.read_models.position_notices), the process's listener (the connection
  that already LISTENs for saves) hands each notice over, and the newest position of
  each model wakes the waiters through a Condition. A slow poll of the recorded
  position stays as a fallback for a notification lost (a listener reconnecting),
  and the fast poll is used while the listener is not connected.

Embedded (SQLite), `SharedPositions` (service.read_models.shared_positions: a mapped
file and a wake-up socket) implements the same interface.
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import anyio.to_thread

from projections.position_waiters import PositionWaiters

# The recorded position of a read model, read from its store (0 if none).
PositionReader = Callable[[str], int]
POLL_SECONDS = 0.005  # the polling transport's pace (and the listener's, while down)
FALLBACK_POLL_SECONDS = 1.0  # with notifications: a look at the store this often
POSITIONS_CHANNEL = "jobstream_read_models"
SEPARATOR = ":"


def notice(name: str, position: int) -> str:
    """The payload that tells `name`'s new position."""
    return f"{name}{SEPARATOR}{position}"


def parse_notice(payload: str) -> tuple[str, int] | None:
    """(name, position) of a notice; None if the payload is not one."""
    name, _, position = payload.rpartition(SEPARATOR)
    if not name or not position.isdigit():
        return None
    return name, int(position)


class RemotePositions(ABC):
    """The positions of read models another process keeps."""

    @abstractmethod
    def position(self, name: str) -> int:
        """The newest position of `name` known here (read from its store if unknown)."""

    @abstractmethod
    def wait(self, name: str, position: int, timeout: float) -> bool:
        """True once `name` reached `position`; False if `timeout` passed first."""

    async def wait_async(self, name: str, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """`wait` for a coroutine, on a worker thread.

        anyio's threads: room for a request's worth of waits, where asyncio's
        default pool has cpu + 4 (six threads on two cores).
        """
        return await anyio.to_thread.run_sync(self.wait, name, position, timeout)

    def known(self, name: str) -> int | None:
        """`name`'s position if known here without I/O; None if only the store tells."""
        return None

    def start(self) -> None:  # noqa: B027 - a transport without a thread has nothing to start
        """Begin listening, where the transport listens."""

    def stop(self) -> None:  # noqa: B027 - nor anything to stop
        """Stop listening and close connections."""


class PollingRemotePositions(RemotePositions):
    """Reads the recorded position again every `interval` until it is reached."""

    def __init__(self, read: PositionReader, interval: float = POLL_SECONDS) -> None:
        self._read = read
        self._interval = interval

    def position(self, name: str) -> int:
        return self._read(name)

    def wait(self, name: str, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._read(name) < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(self._interval)
        return True


class NotifiedRemotePositions(RemotePositions):
    """PostgreSQL: positions arrive by NOTIFY; the store is polled only as a fallback.

    A listener (service.pg_listener.NotificationListener, on the connection that
    hears the event store's saves) hands it every notice on `POSITIONS_CHANNEL`
    (`heard`) and says when LISTEN is in place or lost (`listening_changed`).
    """

    def __init__(
        self, read: PositionReader, *, fallback_seconds: float = FALLBACK_POLL_SECONDS
    ) -> None:
        self._read = read
        self._fallback_seconds = fallback_seconds
        self._known: dict[str, int] = {}
        self._changed = threading.Condition()
        self._listening = False
        # Coroutines waiting for a notice (wait_async): answered on their loops.
        self._async_waiters = PositionWaiters()

    @property
    def listening(self) -> bool:
        """Whether notices arrive (else waits poll fast)."""
        return self._listening

    def heard(self, payload: str) -> None:
        """A notice arrived on `POSITIONS_CHANNEL`."""
        parsed = parse_notice(payload)
        if parsed is not None:
            self._learn(*parsed)

    def listening_changed(self, *, listening: bool) -> None:
        with self._changed:
            if listening:
                # Notices sent while nobody listened are lost: forget what was
                # known, so the next wait reads the store first.
                self._known.clear()
            self._listening = listening
            self._changed.notify_all()
            # Their notice may never come: each waiter reads the store instead.
            self._async_waiters.answer(lambda _, __: True, result=False)

    def position(self, name: str) -> int:
        with self._changed:
            known = self._known.get(name)
        return self._look(name) if known is None else known

    def known(self, name: str) -> int | None:
        # The newest position told or read: it may be behind, never ahead.
        with self._changed:
            return self._known.get(name)

    def wait(self, name: str, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            known = self._known.get(name)
        if known is None or not self._listening:
            known = self._look(name)  # never heard of it: the store says
        next_look = time.monotonic() + self._pace()
        while known < position:
            now = time.monotonic()
            if now >= deadline:
                return False
            if now >= next_look:
                known = self._look(name)  # a notice may have been lost
                next_look = now + self._pace()
                continue
            with self._changed:
                self._changed.wait_for(
                    lambda: self._known.get(name, 0) >= position,
                    min(deadline, next_look) - now,
                )
                known = self._known.get(name, 0)
        return True

    async def wait_async(self, name: str, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """`wait` for a coroutine, holding no thread while notices are heard.

        Each notice wakes each waiting loop once, for all its coroutines there. A
        wait that cannot count on a notice (nothing known yet, LISTEN down, or none
        came within the fallback pace: one may have been lost) reads the store on
        a thread, as `wait` does.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            known = self._known.get(name)
            if known is not None and known >= position:
                return True
            if known is not None and self._listening:
                waiter = self._async_waiters.add(position, name)
            else:
                waiter = None
        if waiter is not None:
            try:
                heard = await asyncio.wait_for(
                    waiter, min(timeout, self._fallback_seconds)
                )
            except TimeoutError:
                heard = False
            finally:
                with self._changed:
                    self._async_waiters.discard(waiter)
            if heard:
                return True
        remaining = max(0.0, deadline - time.monotonic())
        return await super().wait_async(name, position, remaining)

    def _pace(self) -> float:
        return self._fallback_seconds if self._listening else POLL_SECONDS

    def _look(self, name: str) -> int:
        """Read the recorded position, and keep it if it is news."""
        return self._learn(name, self._read(name))

    def _learn(self, name: str, position: int) -> int:
        with self._changed:
            newest = max(self._known.get(name, 0), position)
            self._known[name] = newest
            self._changed.notify_all()
            self._async_waiters.answer(
                lambda key, wanted: key == name and wanted <= newest
            )
            return newest
