"""The retention rules on a clock that moves only when told: what goes, what stays."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import structlog

from service.engine.clock import FakeClock
from service.files.jetstream import object_stored_at as stored_at
from service.files.local import LocalFileStorage
from service.files.retention import FilesInUse, FileSweeper, RetentionRules
from service.files.storage import StoredFile

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STORED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JOB = "batch_01M8VC98SQ47ZE0V75VRMJEHY5"
OTHER_JOB = "batch_01M8VC98SQ47ZE0V75VRMJEHY6"
EXPORT = f"exports/products/product-export-1-{JOB}.csv"
REPORT = f"imports/products/errors/{OTHER_JOB}-errors.csv"
UPLOAD = "protected/1732000000000-abc-products.csv"
RULES = RetentionRules(file_hours=168, upload_hours=24)
NOBODY = FilesInUse(frozenset(), frozenset())


def stored(key: str, hours_ago: float, now: datetime = STORED) -> StoredFile:
    return StoredFile(key, 10, now - timedelta(hours=hours_ago))


@pytest.mark.parametrize(
    ("key", "age_hours", "expected"),
    [
        (EXPORT, 167.9, False),
        (EXPORT, 168, True),
        (REPORT, 169, True),
        (UPLOAD, 23.9, False),
        (UPLOAD, 24, True),
        (f"imports/products/ops/{JOB}.jsonl", 25, True),  # not an output: 24 h
    ],
)
def test_each_kind_of_file_has_its_own_limit(
    key: str, age_hours: float, *, expected: bool
) -> None:
    assert RULES.expired(stored(key, age_hours), STORED) is expected


def test_a_limit_of_zero_keeps_files_for_ever() -> None:
    rules = RetentionRules(file_hours=0, upload_hours=0)

    assert not rules.expired(stored(EXPORT, 10**6), STORED)
    assert not rules.expired(stored(UPLOAD, 10**6), STORED)
    assert not rules.enabled


def test_unfinished_jobs_hold_their_files_and_the_uploads_they_name() -> None:
    in_use = FilesInUse.of_jobs(
        {JOB: {"fileKey": UPLOAD}, OTHER_JOB: {"list_config": {}}}
    )

    assert in_use.holds(EXPORT)  # names JOB
    assert in_use.holds(REPORT)  # names OTHER_JOB
    assert in_use.holds(UPLOAD)  # JOB's context names it
    assert not in_use.holds("protected/1732000000001-other.csv")
    assert not in_use.holds(
        "exports/products/product-export-2-batch_01M8VC98SQ47ZE0V75VRMJEHY7.csv"
    )


class Files:
    """A local store whose files carry the times the test gives them."""

    def __init__(self, root: Path) -> None:
        self.storage = LocalFileStorage(root)

    def put(
        self, key: str, stored_at: datetime, content: bytes = b"0123456789"
    ) -> None:
        self.storage.put(key, [content])
        moment = stored_at.timestamp()
        os.utime(self.storage.root / key, (moment, moment))

    def keys(self) -> set[str]:
        return {f.key for f in self.storage.list_files()}


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path / "uploads")


def test_a_sweep_removes_what_is_old_and_unheld_and_records_each_removal(
    files: Files,
) -> None:
    clock = FakeClock(STORED)
    files.put(EXPORT, STORED - timedelta(hours=200))  # old, but its job is unfinished
    files.put(REPORT, STORED - timedelta(hours=200), b"x" * 25)  # old: goes
    # Old, but an unfinished job names it:
    files.put(UPLOAD, STORED - timedelta(hours=30))
    files.put("protected/abandoned.csv", STORED - timedelta(hours=30), b"y" * 7)  # goes
    files.put("protected/young.csv", STORED - timedelta(hours=1))  # young: stays
    files.put("exports/products/recent.csv", STORED - timedelta(hours=100))  # stays
    recorded: list[tuple[str, float, str]] = []
    sweeper = FileSweeper(
        files.storage,
        RULES,
        in_use=lambda: FilesInUse.of_jobs({JOB: {"fileKey": UPLOAD}}),
        expired=lambda key, hours, actor: recorded.append((key, hours, actor)),
        clock=clock,
    )

    with structlog.testing.capture_logs() as logs:
        report = sweeper.sweep()

    assert sorted(report.removed) == [REPORT, "protected/abandoned.csv"]
    assert (report.bytes, report.kept_in_use) == (32, 2)
    assert files.keys() == {
        EXPORT, UPLOAD, "protected/young.csv", "exports/products/recent.csv"
    }  # fmt: skip
    assert sorted(r[:2] for r in recorded) == [
        (REPORT, 168),
        ("protected/abandoned.csv", 24),
    ]
    assert all(actor.startswith("retention:") for _, _, actor in recorded)
    assert {"event": "files.swept", "removed": 2, "bytes": 32, "kept_in_use": 2,
            "log_level": "info"} in logs  # fmt: skip


def test_files_age_as_the_clock_moves(files: Files) -> None:
    clock = FakeClock(STORED)
    files.put(EXPORT, STORED)
    files.put(UPLOAD, STORED)
    sweeper = FileSweeper(files.storage, RULES, in_use=lambda: NOBODY, clock=clock)

    clock.advance(23 * 3600)
    first = sweeper.sweep().removed
    clock.advance(3600)
    second = sweeper.sweep().removed
    clock.advance(144 * 3600)
    third = sweeper.sweep().removed

    assert (first, second, third) == ([], [UPLOAD], [EXPORT])


class StaleListing(LocalFileStorage):
    """A store listed before another sweeper removed its files."""

    def __init__(self, root: Path, listing: list[StoredFile]) -> None:
        super().__init__(root)
        self._listing = listing

    def list_files(self) -> Iterator[StoredFile]:
        return iter(self._listing)


def test_two_sweepers_that_listed_the_same_file_remove_it_once(files: Files) -> None:
    clock = FakeClock(STORED)
    files.put(UPLOAD, STORED - timedelta(hours=48))
    late = StaleListing(files.storage.root, list(files.storage.list_files()))
    recorded: list[tuple[str, float, str]] = []

    def sweeper(storage: LocalFileStorage) -> FileSweeper:
        return FileSweeper(
            storage, RULES, in_use=lambda: NOBODY, clock=clock,
            expired=lambda key, hours, actor: recorded.append((key, hours, actor)),
        )  # fmt: skip

    reports = [sweeper(files.storage).sweep(), sweeper(late).sweep()]

    assert [r.removed for r in reports] == [[UPLOAD], []]
    assert [key for key, _, _ in recorded] == [UPLOAD]
    assert files.keys() == set()


def test_nothing_old_reads_no_jobs(files: Files) -> None:
    files.put(UPLOAD, STORED - timedelta(hours=1))

    def unreadable() -> FilesInUse:
        raise AssertionError("the jobs are read only when a file is old")

    report = FileSweeper(
        files.storage, RULES, in_use=unreadable, clock=FakeClock(STORED)
    ).sweep()

    assert report.removed == []


def test_a_file_being_written_is_not_listed(files: Files) -> None:
    writer = files.storage.open_writer("protected/in-flight.csv")
    writer.write(b"half")

    listed = files.keys()
    writer.commit()

    assert listed == set()
    assert files.keys() == {"protected/in-flight.csv"}


@pytest.mark.parametrize(
    ("mtime", "expected"),
    [
        (
            "2026-03-01T12:00:00.123456+00:00",
            datetime(2026, 3, 1, 12, 0, 0, 123456, UTC),
        ),
        ("2026-03-01T12:00:00.123456789Z", datetime(2026, 3, 1, 12, 0, 0, 123456, UTC)),
        ("2026-03-01T12:00:00Z", STORED),
        ("", None),
        ("0001-01-01T00:00:00Z?", None),
    ],
)
def test_an_objects_time_is_read_as_nats_py_and_go_clients_write_it(
    mtime: str, expected: datetime | None
) -> None:
    assert stored_at(mtime) == expected
