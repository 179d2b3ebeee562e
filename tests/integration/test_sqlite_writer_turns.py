"""SQLite writers take turns across processes before SQLite's own lock.

Another process holds the turn with `flock`, as a second `serve` process would; the
writes here must wait for it, and go on the moment it lets go.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from eventsourcing.persistence import OperationalError, StoredEvent, Tracking

from service.bootstrap.stores import build_app, infrastructure
from service.sqlite_writer_turns import SUFFIX, WriterTurns
from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


class OtherProcess:
    """A process holding a file's writer turn until `release()`."""

    def __init__(self, path: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", HOLD, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._ended()

    def kill(self) -> None:
        self._process.kill()
        self._ended()

    def _ended(self) -> None:
        self._process.wait(10)
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def turn_file(tmp_path: Path) -> str:
    return str(tmp_path / f"test.sqlite{SUFFIX}")


def finishes_after(
    action: Callable[[], object], other: OtherProcess, *, release: Callable[[], None]
) -> float:
    """Run `action` in a thread while `other` holds the turn; seconds it took."""
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    assert not done.wait(0.3), "wrote while another process held the turn"
    release()
    assert done.wait(5), "still waiting after the other process let go"
    thread.join()
    assert not errors, errors
    return time.monotonic() - started


def test_a_turn_waits_for_another_process_and_follows_it_closely(
    turn_file: str,
) -> None:
    turns = WriterTurns(turn_file, timeout=10)
    other = OtherProcess(turn_file)
    released_at: list[float] = []

    def release() -> None:
        other.release()
        released_at.append(time.monotonic())

    got_at: list[float] = []

    def take() -> None:
        with turns.held():
            got_at.append(time.monotonic())

    finishes_after(take, other, release=release)
    assert got_at[0] - released_at[0] < 0.05  # polled at <= 0.5 ms, not SQLite's ms
    turns.close()


def test_a_process_that_dies_holding_the_turn_gives_it_up(turn_file: str) -> None:
    turns = WriterTurns(turn_file, timeout=10)
    other = OtherProcess(turn_file)
    finishes_after(lambda: turns.held().__enter__(), other, release=other.kill)
    turns.close()


def test_no_turn_within_the_timeout_is_sqlites_busy_error(turn_file: str) -> None:
    turns = WriterTurns(turn_file, timeout=0.2)
    other = OtherProcess(turn_file)
    try:
        with pytest.raises(OperationalError, match="database is locked"), turns.held():
            pass
    finally:
        other.release()
        turns.close()


def test_a_write_nested_in_its_threads_turn_does_not_wait_for_itself(
    turn_file: str,
) -> None:
    turns = WriterTurns(turn_file, timeout=0.5)
    with turns.held(), turns.held():
        pass
    # Both levels let go: another process gets the turn at once.
    other = OtherProcess(turn_file)
    other.release()
    turns.close()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[object, object]]:
    settings = make_settings(tmp_path)
    app = build_app(settings)
    view = infrastructure(settings, "batchjobs", pool_size=2)
    try:
        yield app, view
    finally:
        app.close()
        view.close()


def test_saves_and_tracking_records_take_the_stores_turn(
    stores: tuple[object, object], tmp_path: Path
) -> None:
    """The contract take_turns relies on: eventsourcing writes via datastore.transaction."""
    app, view = stores
    event_log = app.recorder  # type: ignore[attr-defined]
    events = [
        StoredEvent(f"turns-{uuid.uuid4().hex}", 1, "t.turns", b"{}") for _ in range(2)
    ]
    other = OtherProcess(event_log.datastore.pool.db_name + SUFFIX)
    finishes_after(
        lambda: event_log.insert_events(events), other, release=other.release
    )
    found = event_log.select_notifications(0, 10, topics=["t.turns"])
    assert [n.originator_id for n in found] == [e.originator_id for e in events]

    tracking = view.tracking_recorder()  # type: ignore[attr-defined]
    other = OtherProcess(tracking.datastore.pool.db_name + SUFFIX)
    finishes_after(
        lambda: tracking.insert_tracking(Tracking("turns", 7)),
        other,
        release=other.release,
    )
    assert tracking.max_tracking_id("turns") == 7
