"""The file storage interface: streamed, atomic writes; chunked reads; safe keys."""

from __future__ import annotations

import errno
import io
import re
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Self

import structlog

from domain.errors import DomainError, InvalidDataError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime
    from types import TracebackType

CHUNK_SIZE = 128 * 1024  # nats-py's object store chunk; a good disk write too
MAX_KEY_LENGTH = 1024
_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9._\-/]+")
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
log = structlog.get_logger("files")


class InvalidFileKeyError(InvalidDataError):
    def __init__(self, key: str) -> None:
        super().__init__(f"{key!r} is not a valid file key")


class StoredFileNotFoundError(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"File with key {key} was not found")
        self.key = key


class StorageFullError(DomainError):
    """No space left where files are stored: Medusa's `unexpected_state` (500)."""

    type = "unexpected_state"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The file storage is full: {key} could not be stored. "
            "Free some space and try again"
        )
        self.key = key


@contextmanager
def full_storage_reported(key: str) -> Iterator[None]:
    """A disk-full or quota error inside becomes `StorageFullError` (and a log line)."""
    try:
        yield
    except OSError as error:
        if error.errno not in _FULL:
            raise
        log.error("files.storage_full", key=key, error=str(error))  # noqa: TRY400 - one line, no trace
        raise StorageFullError(key) from error


def check_key(key: str) -> str:
    """A relative path of `[A-Za-z0-9._-]` segments; none empty or starting with a dot.

    So no `..`, no absolute path, no backslash, and the dot-names the backends keep for
    themselves (temporary files) are never a key.
    """
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or _KEY_CHARACTERS.fullmatch(key) is None
        or any(not segment or segment.startswith(".") for segment in segments)
    ):
        raise InvalidFileKeyError(key)
    return key


class FileWriter(ABC):
    """Bytes or text in; the file appears whole on `commit()` (or `close()`), or never.

    As a context manager it commits on a clean exit and aborts on an exception. Small
    writes are gathered into chunks of `CHUNK_SIZE` before they reach the backend.
    """

    def __init__(self, key: str, encoding: str = "utf-8") -> None:
        self.key = key
        self.encoding = encoding
        self.size = 0
        self._buffer = bytearray()
        self._finished = False

    def write(self, data: bytes | bytearray | memoryview | str) -> int:
        if self._finished:
            raise ValueError(f"write to a finished file writer ({self.key})")
        raw = data.encode(self.encoding) if isinstance(data, str) else bytes(data)
        self._buffer += raw
        self.size += len(raw)
        if len(self._buffer) >= CHUNK_SIZE:
            self._flush()
        return len(data)

    def writelines(self, lines: Iterable[bytes | str]) -> None:
        for line in lines:
            self.write(line)

    def _flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            try:
                with full_storage_reported(self.key):
                    self._write_chunk(chunk)
            except BaseException:
                self.abort()
                raise

    def commit(self) -> int:
        """Make the file visible under its key; return its size in bytes."""
        if self._finished:
            return self.size
        self._flush()
        self._finished = True
        try:
            with full_storage_reported(self.key):
                self._commit()
        except BaseException:
            self._abort()
            raise
        return self.size

    def abort(self) -> None:
        """Discard everything written; the key is left as it was."""
        if not self._finished:
            self._finished = True
            self._buffer.clear()
            self._abort()

    def close(self) -> None:
        self.commit()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    @abstractmethod
    def _write_chunk(self, chunk: bytes) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _abort(self) -> None: ...


class FileReader(io.RawIOBase):
    """A stored file, read in chunks (`chunks()`) or as a raw binary stream.

    `io.TextIOWrapper(io.BufferedReader(reader), encoding="utf-8", newline="")` reads it
    line by line; `FileStorage.open_text` does exactly that.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def chunks(self) -> Iterator[bytes]:
        """The rest of the file, chunk by chunk (as the backend holds it)."""
        if self._pending:
            pending, self._pending = self._pending, b""
            yield pending
        while not self.closed:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            yield chunk

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._release()
        super().close()

    def _release(self) -> None:
        """Free what the backend holds for this read (a file, a subscription)."""


@dataclass(frozen=True)
class StoredFile:
    """A stored file as a listing shows it; `stored_at` is when its write began (UTC)."""

    key: str
    size: int
    stored_at: datetime


class FileStorage(ABC):
    """Where uploads and the files of batch jobs live. Every method is blocking."""

    @abstractmethod
    def open_writer(self, key: str) -> FileWriter:
        """A writer whose file replaces `key` only once it commits."""

    @abstractmethod
    def open_reader(self, key: str) -> FileReader:
        """Read `key`; raises `StoredFileNotFoundError` if it does not exist."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; raises `StoredFileNotFoundError`."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove `key`; False if there was nothing to remove."""

    @abstractmethod
    def list_files(self) -> Iterator[StoredFile]:
        """Every complete file, in no particular order (files being written: none)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and threads."""

    def put(self, key: str, source: Iterable[bytes] | BinaryIO) -> int:
        """Store chunks or a binary file object under `key`; return the size."""
        chunks: Iterable[bytes] = (
            iter(lambda: source.read(CHUNK_SIZE), b"")
            if hasattr(source, "read")
            else source
        )
        with self.open_writer(key) as writer:
            for chunk in chunks:
                writer.write(chunk)
        return writer.size

    def open_text(self, key: str, encoding: str = "utf-8") -> io.TextIOWrapper:
        """`key` as a text stream, e.g. for `csv.reader` (newline handling left to it)."""
        return io.TextIOWrapper(
            io.BufferedReader(self.open_reader(key), CHUNK_SIZE),
            encoding=encoding,
            newline="",
        )
