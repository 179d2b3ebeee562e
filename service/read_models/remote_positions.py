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
  (service.read_models.position_notices), a listening thread keeps the newest
  position of each model and wakes the waiters through a Condition. A slow poll of
  the recorded position stays as a fallback for a notification lost (a listener
  reconnecting), and the fast poll is used while the listener is not connected.

Other transports (a SQLite file shared by embedded processes) implement the same
interface.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger("read_models")

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
    """PostgreSQL: positions arrive by NOTIFY; the store is polled only as a fallback."""

    def __init__(
        self,
        read: PositionReader,
        conninfo: str,
        *,
        channel: str = POSITIONS_CHANNEL,
        fallback_seconds: float = FALLBACK_POLL_SECONDS,
    ) -> None:
        self._read = read
        self._conninfo = conninfo
        self._channel = channel
        self._fallback_seconds = fallback_seconds
        self._known: dict[str, int] = {}
        self._changed = threading.Condition()
        self._listening = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, name="read-model-positions", daemon=True
        )

    @property
    def listening(self) -> bool:
        """Whether notifications arrive (else waits poll fast)."""
        return self._listening

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def position(self, name: str) -> int:
        with self._changed:
            known = self._known.get(name)
        return self._look(name) if known is None else known

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
                known = self._look(name)  # a notification may have been lost
                next_look = now + self._pace()
                continue
            with self._changed:
                self._changed.wait_for(
                    lambda: self._known.get(name, 0) >= position,
                    min(deadline, next_look) - now,
                )
                known = self._known.get(name, 0)
        return True

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
            return newest

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
                    )
                    with self._changed:
                        # Notices sent while nobody listened are lost: forget what
                        # was known, so the next wait reads the store first.
                        self._known.clear()
                        self._listening = True
                    while not self._stop.is_set():
                        # A short timeout keeps stop() prompt.
                        for notify in conn.notifies(timeout=0.25):
                            parsed = parse_notice(notify.payload)
                            if parsed is not None:
                                self._learn(*parsed)
            except psycopg.Error as error:
                log.warning("read_models.positions_listener_down", error=str(error))
                self._stop.wait(1.0)
            finally:
                self._listening = False
