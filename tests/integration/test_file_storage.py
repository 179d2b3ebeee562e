"""One test body, both file stores: a local directory and a real JetStream object store."""

from __future__ import annotations

import csv
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.errors import NoServersError

from service.files.jetstream import JetStreamFileStorage
from service.files.local import TEMPORARY_DIR, LocalFileStorage
from service.files.storage import (
    CHUNK_SIZE,
    FileStorage,
    InvalidFileKeyError,
    StoredFileNotFoundError,
)
from tests.file_support import leftovers

MEGABYTE = 1024 * 1024


class BoomError(Exception):
    pass


@pytest.fixture(params=["local", pytest.param("nats", marks=pytest.mark.integration)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStorage]:
    if request.param == "nats":
        url = request.getfixturevalue("nats_url")
        store: FileStorage = JetStreamFileStorage(
            [url], f"files_{uuid.uuid4().hex[:8]}"
        )
    else:
        store = LocalFileStorage(tmp_path / "uploads")
    try:
        yield store
    finally:
        store.close()


def random_chunks(count: int, size: int = 300_001) -> Iterator[bytes]:
    """Chunks of a size that lines up with no backend chunk."""
    for _ in range(count):
        yield os.urandom(size)


def test_a_multi_megabyte_file_round_trips_in_chunks(storage: FileStorage) -> None:
    written = hashlib.sha256()
    with storage.open_writer("exports/big.bin") as writer:
        for chunk in random_chunks(12):
            written.update(chunk)
            writer.write(chunk)

    assert storage.exists("exports/big.bin")
    assert storage.size("exports/big.bin") == 12 * 300_001 > 3 * MEGABYTE
    read, largest = hashlib.sha256(), 0
    with storage.open_reader("exports/big.bin") as reader:
        for chunk in reader.chunks():
            read.update(chunk)
            largest = max(largest, len(chunk))
    assert read.hexdigest() == written.hexdigest()
    assert largest <= CHUNK_SIZE


def test_put_takes_chunks_or_a_file_object(
    storage: FileStorage, tmp_path: Path
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(MEGABYTE + 7))

    assert storage.put("a/from-chunks", [b"abc", b"", b"def"]) == 6
    with source.open("rb") as file:
        assert storage.put("a/from-file", file) == MEGABYTE + 7

    with storage.open_reader("a/from-chunks") as reader:
        assert reader.read() == b"abcdef"
    with storage.open_reader("a/from-file") as reader:
        assert reader.read() == source.read_bytes()


def test_text_written_row_by_row_reads_back_line_by_line(storage: FileStorage) -> None:
    rows = [
        ["id", "title"],
        *[[f"prod_{n}", f"Prodüct, {n}\nline"] for n in range(5000)],
    ]
    with storage.open_writer("exports/products.csv") as writer:
        csv.writer(writer).writerows(rows)

    with storage.open_text("exports/products.csv") as text:
        assert list(csv.reader(text)) == rows


def test_an_aborted_write_leaves_nothing(storage: FileStorage) -> None:
    def write_then_fail() -> None:
        with storage.open_writer("exports/partial.csv") as writer:
            for chunk in random_chunks(4):
                writer.write(chunk)
            raise BoomError

    with pytest.raises(BoomError):
        write_then_fail()

    assert not storage.exists("exports/partial.csv")
    with pytest.raises(StoredFileNotFoundError):
        storage.size("exports/partial.csv")
    assert leftovers(storage) == []


def test_a_write_is_invisible_until_it_commits(storage: FileStorage) -> None:
    storage.put("report.csv", [b"old"])
    writer = storage.open_writer("report.csv")
    writer.write(os.urandom(CHUNK_SIZE * 3))

    with storage.open_reader("report.csv") as reader:
        assert reader.read() == b"old"
    assert writer.commit() == CHUNK_SIZE * 3
    assert storage.size("report.csv") == CHUNK_SIZE * 3


def test_delete_removes_a_file_once(storage: FileStorage) -> None:
    storage.put("imports/ops.json", [b"[]"])

    assert storage.delete("imports/ops.json") is True
    assert not storage.exists("imports/ops.json")
    assert storage.delete("imports/ops.json") is False
    with pytest.raises(StoredFileNotFoundError):
        storage.open_reader("imports/ops.json")


def test_an_empty_file_exists_with_size_zero(storage: FileStorage) -> None:
    storage.put("empty.csv", [])

    assert storage.exists("empty.csv")
    assert storage.size("empty.csv") == 0
    with storage.open_reader("empty.csv") as reader:
        assert list(reader.chunks()) == []


def test_a_reader_closed_early_lets_go(storage: FileStorage) -> None:
    storage.put("big.bin", random_chunks(8))

    for _ in range(3):
        with storage.open_reader("big.bin") as reader:
            assert len(next(reader.chunks())) > 0

    assert storage.delete("big.bin")


@pytest.mark.parametrize(
    "key",
    ["", "../secrets.json", "a/../../b", "/etc/passwd", ".tmp/x", "a//b", "a\\b", "a/"],
)
def test_unsafe_keys_are_refused(storage: FileStorage, key: str) -> None:
    with pytest.raises(InvalidFileKeyError):
        storage.open_writer(key)
    with pytest.raises(InvalidFileKeyError):
        storage.exists(key)


def test_local_files_never_escape_the_root(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "uploads")
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "uploads" / "link").symlink_to(tmp_path)

    with pytest.raises(InvalidFileKeyError):
        storage.exists("link/outside.txt")
    with pytest.raises(InvalidFileKeyError):
        storage.open_reader("link/outside.txt")
    assert (tmp_path / "uploads" / TEMPORARY_DIR).is_dir()


def test_a_nats_store_connects_on_first_use_and_retries() -> None:
    """A process starts while NATS is away; file calls fail until it is back."""
    storage = JetStreamFileStorage(["nats://127.0.0.1:1"], "files_unreachable")
    try:
        for _ in range(2):
            with pytest.raises(NoServersError):
                storage.exists("a.csv")
    finally:
        storage.close()


def test_parts_a_crashed_writer_left_are_removed_on_start(tmp_path: Path) -> None:
    LocalFileStorage(tmp_path / "uploads")
    parts = tmp_path / "uploads" / TEMPORARY_DIR
    stale, live = parts / "stale.part", parts / "live.part"
    stale.write_bytes(b"x")
    live.write_bytes(b"y")
    day_ago = time.time() - 25 * 3600
    os.utime(stale, (day_ago, day_ago))

    LocalFileStorage(tmp_path / "uploads")

    assert not stale.exists()
    assert live.exists()


@pytest.mark.integration
def test_closing_a_nats_store_ends_transfers_in_progress(nats_url: str) -> None:
    storage = JetStreamFileStorage([nats_url], f"files_{uuid.uuid4().hex[:8]}")
    storage.put("big.bin", random_chunks(8))
    reader = storage.open_reader("big.bin")
    writer = storage.open_writer("other.bin")
    writer.write(os.urandom(CHUNK_SIZE * 2))
    started = time.monotonic()

    storage.close()

    reader.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.commit()
    with pytest.raises(RuntimeError, match="closed"):
        storage.exists("big.bin")
    assert time.monotonic() - started < 5
