"""Files in a local directory: written to a temporary name, renamed into place."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO

from service.files.storage import (
    CHUNK_SIZE,
    FileReader,
    FileStorage,
    FileWriter,
    InvalidFileKeyError,
    StoredFile,
    StoredFileNotFoundError,
    check_key,
    full_storage_reported,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TEMPORARY_DIR = ".tmp"  # inside the root, so a rename never crosses file systems
STALE_PART_SECONDS = 24 * 3600


class LocalFileWriter(FileWriter):
    def __init__(self, key: str, target: Path, temporary: Path) -> None:
        super().__init__(key)
        self._target, self._temporary = target, temporary
        with full_storage_reported(key):
            self._file: BinaryIO = temporary.open("xb")

    def _write_chunk(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._target.parent.mkdir(parents=True, exist_ok=True)
        self._temporary.replace(self._target)

    def _abort(self) -> None:
        # On a full disk, close() fails to flush what is buffered: the part goes anyway.
        with contextlib.suppress(OSError):
            self._file.close()
        self._temporary.unlink(missing_ok=True)


def _chunks_of(file: BinaryIO) -> Iterator[bytes]:
    yield from iter(lambda: file.read(CHUNK_SIZE), b"")


class LocalFileReader(FileReader):
    def __init__(self, file: BinaryIO) -> None:
        super().__init__(_chunks_of(file))
        self._file = file

    def _release(self) -> None:
        self._file.close()


class LocalFileStorage(FileStorage):
    """Keys are paths under `root`; the embedded default is `<data dir>/uploads`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        (self.root / TEMPORARY_DIR).mkdir(parents=True, exist_ok=True)
        self._remove_stale_parts()

    def _remove_stale_parts(self) -> None:
        """What writers of a crashed process left; a live writer keeps its mtime fresh."""
        cutoff = time.time() - STALE_PART_SECONDS
        for part in (self.root / TEMPORARY_DIR).glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink pointing out of the root
            raise InvalidFileKeyError(key)
        return path

    def open_writer(self, key: str) -> LocalFileWriter:
        target = self._path(key)
        temporary = self.root / TEMPORARY_DIR / f"{uuid.uuid4().hex}.part"
        return LocalFileWriter(key, target, temporary)

    def open_reader(self, key: str) -> LocalFileReader:
        try:
            return LocalFileReader(self._path(key).open("rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StoredFileNotFoundError(key) from None

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise StoredFileNotFoundError(key)
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self._path(key)
        if not path.is_file():
            return False
        with contextlib.suppress(FileNotFoundError):  # a concurrent delete won
            path.unlink()
            return True
        return False

    def list_files(self) -> Iterator[StoredFile]:
        """Files under the root; dot-names (the writers' parts) are never keys."""
        for directory, folders, names in os.walk(self.root):
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                path = os.path.join(directory, name)  # noqa: PTH118 - os.walk's strings
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    stat = os.stat(path)  # noqa: PTH116
                    yield StoredFile(
                        key=os.path.relpath(path, self.root).replace(os.sep, "/"),
                        size=stat.st_size,
                        stored_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )

    def close(self) -> None:
        """Nothing to release: every reader and writer owns its file."""
