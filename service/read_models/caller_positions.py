"""Where each caller's last write ended: what read-your-writes waits for.

A read used to wait until the read model had every event stored when the request
began. Under load the log's head moves on every engine step, so nearly every read
waited for a projection round, for events that were not the caller's. Read-your-writes
only promises a caller its own writes: a read now waits for the position of the
caller's last write, and a write answers as soon as that position is recorded where
every process serving reads will find it. (The process that keeps the read models
lowers any record past the log's end when it starts: a restored data directory.)

Embedded, the record is a small file every process of the data directory maps
(`callers.shm`): one 8-byte slot per hash of the caller's id. Two callers sharing a
slot only make one of them wait for the other's writes too, never less. Writers take
the file's lock to raise a slot (a read-modify-write across processes); readers read
the aligned 8 bytes without it. On PostgreSQL the processes serving reads may be on
other hosts: positions are not shared, and reads keep waiting for the head.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import threading
import zlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FILE_NAME = "callers.shm"
SLOTS = 8192
_SLOT = struct.Struct("q")  # native and aligned: one machine load per read
FILE_BYTES = SLOTS * _SLOT.size


def slot_of(caller_id: str) -> int:
    """The caller's slot: the same in every process (unlike `hash()`, which is salted)."""
    return zlib.crc32(caller_id.encode()) % SLOTS


class CallerPositions(ABC):
    @property
    @abstractmethod
    def shared(self) -> bool:
        """True if every process serving reads sees `record` before it returns."""

    @abstractmethod
    def record(self, caller_id: str, position: int) -> None:
        """`caller_id`'s write ended at `position`."""

    @abstractmethod
    def last_write(self, caller_id: str) -> int | None:
        """At least the position of `caller_id`'s last write; None: not known here."""

    def clamp(self, head: int) -> None:  # noqa: B027 - nothing recorded by default
        """Lower every record past `head`, the log's end (a restored data directory)."""

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release what the record holds."""


class UnsharedCallerPositions(CallerPositions):
    """Nothing is known: every read waits for the head, every write for its read model."""

    @property
    def shared(self) -> bool:
        return False

    def record(self, caller_id: str, position: int) -> None:
        pass

    def last_write(self, caller_id: str) -> int | None:
        return None


class SharedCallerPositions(CallerPositions):
    """The embedded record in `<data_dir>/callers.shm`, shared by its processes."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(data_dir / FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < FILE_BYTES:
            os.ftruncate(self._fd, FILE_BYTES)
        self._map = mmap.mmap(self._fd, FILE_BYTES)
        # flock is per open file description: threads of this process that share
        # the descriptor would not exclude each other through it.
        self._lock = threading.Lock()
        self._closed = False

    @property
    def shared(self) -> bool:
        return True

    def record(self, caller_id: str, position: int) -> None:
        offset = slot_of(caller_id) * _SLOT.size
        with self._lock:
            if self._closed:
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if _SLOT.unpack_from(self._map, offset)[0] < position:
                    _SLOT.pack_into(self._map, offset, position)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def clamp(self, head: int) -> None:
        with self._lock:
            if self._closed:
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                slots = memoryview(self._map).cast("q")
                try:
                    for slot, position in enumerate(slots):
                        if position > head:
                            slots[slot] = head
                finally:
                    slots.release()
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def last_write(self, caller_id: str) -> int | None:
        if self._closed:
            return None
        value: int = _SLOT.unpack_from(self._map, slot_of(caller_id) * _SLOT.size)[0]
        return value

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(BufferError):  # a reader still holds a view
                self._map.close()
            os.close(self._fd)
