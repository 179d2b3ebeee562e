"""Read-model positions shared by the processes of one embedded (SQLite) deployment.

With several HTTP processes on one data directory, one of them projects; the others
answer reads and writes and must see what the projection reached, and wake it at once
when they store events (it would otherwise find them on its 1 s idle poll).

- Positions live in `<data_dir>/positions.shm`, a small file every process maps: one
  8-byte slot per read model, written only by the projecting process (a native aligned
  8-byte store, so a reader never sees half a value), read by anyone for free.
- Wake-ups are datagrams to an abstract Unix socket named after the data directory
  (no file to clean up, no path length limit): the topics a process just stored, or
  nothing ("wake every runner"). The projecting process binds it and wakes its runners.

It is the embedded transport of RemotePositions (the read-model host's interface;
NotifiedRemotePositions is the PostgreSQL one). The host wires it: the keeper
publishes each runner's new position (its on_advance) and listens; the others
announce their saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING

import structlog

from service.read_models.remote_positions import RemotePositions

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from pathlib import Path

log = structlog.get_logger("read_models")

FILE_NAME = "positions.shm"
# Slot order is the file format: append new read models, never reorder.
SLOTS = ("batchjobs", "catalog")
_SLOT = struct.Struct("q")  # native and aligned: one machine store per write
FILE_BYTES = 4096
MAX_DATAGRAM = 64 * 1024
POLL_FIRST_SECONDS = 0.0002  # a projection round is about a millisecond
POLL_MAX_SECONDS = 0.002


WAITING = "@"  # a wake-up that names a read model someone waits for, not a topic


def waiting_for(name: str) -> str:
    """The wake-up `wait` sends: only `name`'s runner needs to move."""
    return f"{WAITING}{name}"


def waited_for(topics: Collection[str] | None) -> list[str] | None:
    """The read models a wake-up names (see waiting_for); None if it names topics."""
    if not topics or not all(topic.startswith(WAITING) for topic in topics):
        return None
    return [topic[len(WAITING) :] for topic in topics]


def socket_address(data_dir: Path) -> str:
    """The abstract socket name for this data directory (Linux)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:24]
    return f"\0jobstream-positions-{digest}"


class SharedPositions(RemotePositions):
    """Positions of the read models under `data_dir`, as every process sees them."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / FILE_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < FILE_BYTES:
                os.ftruncate(fd, FILE_BYTES)
            self._map = mmap.mmap(fd, FILE_BYTES)
        finally:
            os.close(fd)
        self._address = socket_address(data_dir)
        # Opened on the first announcement: a process that never starts its read
        # models (a test's runtime, a command) holds no socket to leak.
        self._sender: socket.socket | None = None
        self._sender_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._inbox: socket.socket | None = None
        self._closed = threading.Event()

    # -- reading (any process) --------------------------------------------------

    def position(self, name: str) -> int:
        value: int = _SLOT.unpack_from(self._map, _offset(name))[0]
        return value

    def wait(self, name: str, position: int, timeout: float) -> bool:
        """Block until `name` reached `position`; False if `timeout` passed first.

        The projecting process is told once that `name` is waited for: the events
        may not be of its topics, and then only a wake-up moves its position past them.
        """
        if self.position(name) >= position:
            return True
        self.announce([waiting_for(name)])
        deadline = time.monotonic() + timeout
        pause = POLL_FIRST_SECONDS
        while self.position(name) < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_MAX_SECONDS)
        return True

    def announce(self, topics: Collection[str]) -> None:
        """Tell the projecting process that events of `topics` were stored (none: any)."""
        message = "\n".join(topics).encode()
        # Not listening (not started yet, or stopping), or its queue is full (then it
        # has wake-ups pending anyway): its idle poll still finds the events.
        with contextlib.suppress(OSError):
            self._sending_socket().sendto(message[:MAX_DATAGRAM], self._address)

    def _sending_socket(self) -> socket.socket:
        with self._sender_lock:
            if self._sender is None:
                if self._closed.is_set():
                    raise OSError("closed")  # announced while stopping: dropped
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.settimeout(0.0)  # never block a request on a wake-up
            return self._sender

    # -- writing (the projecting process) ----------------------------------------

    def publish(self, name: str, position: int) -> None:
        """Record that `name` reached `position` (only the projecting process writes)."""
        offset = _offset(name)
        if _SLOT.unpack_from(self._map, offset)[0] < position:
            _SLOT.pack_into(self._map, offset, position)

    def reset(self, name: str, position: int) -> None:
        """Set `name` to `position`, even backwards (a rebuilt or restored read model)."""
        _SLOT.pack_into(self._map, _offset(name), position)

    def listen(self, on_wake: Callable[[Collection[str] | None], None]) -> bool:
        """Take wake-ups from other processes; False if another process already does."""
        inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            inbox.bind(self._address)
        except OSError as error:
            inbox.close()
            log.warning("shared_positions.not_listening", error=str(error))
            return False
        inbox.settimeout(0.5)  # how soon close() is noticed
        self._inbox = inbox
        self._listener = threading.Thread(
            target=self._receive, args=(inbox, on_wake), name="positions", daemon=True
        )
        self._listener.start()
        return True

    def _receive(
        self, inbox: socket.socket, on_wake: Callable[[Collection[str] | None], None]
    ) -> None:
        while not self._closed.is_set():
            try:
                message = inbox.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            try:
                on_wake(message.decode().split("\n") if message else None)
            except Exception as error:  # noqa: BLE001 - a wake-up must not end the loop
                log.warning("shared_positions.wake_failed", error=repr(error))

    def stop(self) -> None:
        self.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None:
            self._listener.join(2.0)
        if self._inbox is not None:
            self._inbox.close()
        with self._sender_lock:
            if self._sender is not None:
                self._sender.close()
        with contextlib.suppress(BufferError):  # a reader still holds a view
            self._map.close()


def _offset(name: str) -> int:
    if name not in SLOTS:
        raise ValueError(f"no shared position for read model {name!r}")
    return SLOTS.index(name) * _SLOT.size
