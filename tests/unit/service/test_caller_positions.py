"""Read-your-writes bound by the caller's own writes (service.read_models.caller_positions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from projections.read_models.known import BATCH_JOBS
from service.application import Jobstream
from service.read_model_lag import ReadModelLagError
from service.read_models.caller_positions import (
    SharedCallerPositions,
    UnsharedCallerPositions,
    slot_of,
)
from service.read_models.head import QueriedHead
from service.read_models.host import HostedReadModel
from service.read_models.remote_positions import RemotePositions
from service.stores import in_memory_view

if TYPE_CHECKING:
    from collections.abc import Iterator

    from service.read_models.caller_positions import CallerPositions

ROOT = Path(__file__).resolve().parents[3]


class FixedRemote(RemotePositions):
    """Another process's read model, standing still at `at`; counts the waits."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.waits: list[int] = []

    def position(self, name: str) -> int:
        return self.at

    def wait(self, name: str, position: int, timeout: float) -> bool:
        self.waits.append(position)
        return self.at >= position


@pytest.fixture
def app() -> Iterator[Jobstream]:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def hosted(
    app: Jobstream, remote: FixedRemote, head: int, callers: CallerPositions
) -> HostedReadModel[object]:
    view = in_memory_view(BATCH_JOBS.name, BATCH_JOBS.view_class("memory"))
    return HostedReadModel(
        BATCH_JOBS,
        view,
        app=app,
        project=False,
        timeout=0.05,
        head=QueriedHead(lambda: head),
        remote=remote,
        local_reads=True,
        callers=callers,
    )


def test_a_write_recorded_by_one_process_is_read_by_another(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path;"
        "from service.read_models.caller_positions import SharedCallerPositions as S;"
        "s = S(Path(sys.argv[1])); s.record('usr_1', 41); s.record('usr_1', 7); s.close()"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, cwd=ROOT)
    here = SharedCallerPositions(tmp_path)
    try:
        assert here.last_write("usr_1") == 41  # a later, lower record never lowers it
        assert here.last_write("usr_2") == 0  # never wrote: nothing to wait for
        here.record("usr_2", 5)
        assert here.last_write("usr_2") == 5
        assert here.shared
    finally:
        here.close()
    assert here.last_write("usr_1") is None  # closed: unknown, so reads wait for all


def test_slots_are_the_same_in_every_process() -> None:
    # hash() of a str is salted per process; the slot must not be.
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "from service.read_models.caller_positions import slot_of;"
                "print(slot_of('usr_01ABC'))"
            ),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert int(printed.stdout) == slot_of("usr_01ABC")


@pytest.fixture
def callers(tmp_path: Path) -> Iterator[SharedCallerPositions]:
    record = SharedCallerPositions(tmp_path)
    yield record
    record.close()


def test_a_read_waits_for_its_callers_writes_not_for_others(
    app: Jobstream, callers: SharedCallerPositions
) -> None:
    remote = FixedRemote(at=5)
    model = hosted(app, remote, head=9, callers=callers)
    callers.record("usr_mine", 4)
    callers.record("usr_busy", 7)
    # The log moved on to 9 (others' writes, the engine's steps): a read by a
    # caller whose writes the view has answers at once.
    assert model.is_current("usr_mine")
    assert model.is_current("usr_idle")  # never wrote
    model.catch_up("usr_mine")
    assert remote.waits == [4]
    # A caller whose last write the view has not folded yet waits for it.
    assert not model.is_current("usr_busy")
    with pytest.raises(ReadModelLagError):
        model.catch_up("usr_busy")
    # Without a caller (operator pages, the catalog): every event stored.
    assert not model.is_current()
    with pytest.raises(ReadModelLagError):
        model.catch_up()


def test_a_callers_write_newer_than_this_process_heard_of_is_waited_for(
    app: Jobstream, callers: SharedCallerPositions
) -> None:
    # The write was answered by another process; the head this process knows is
    # older. The read waits for the write anyway.
    callers.record("usr_1", 12)
    remote = FixedRemote(at=9)
    model = hosted(app, remote, head=9, callers=callers)
    assert not model.is_current("usr_1")
    with pytest.raises(ReadModelLagError):
        model.catch_up("usr_1")
    assert remote.waits == [12]


def test_everything_waits_for_the_head_and_the_callers_writes(
    app: Jobstream, callers: SharedCallerPositions
) -> None:
    callers.record("usr_1", 4)
    callers.record("usr_2", 12)
    remote = FixedRemote(at=12)
    model = hosted(app, remote, head=9, callers=callers)
    model.catch_up("usr_1", everything=True)
    model.catch_up("usr_2", everything=True)
    assert remote.waits == [9, 12]


def test_the_keeper_lowers_records_past_a_restored_logs_end(
    callers: SharedCallerPositions,
) -> None:
    callers.record("usr_before", 40)
    callers.record("usr_after", 500)
    callers.clamp(100)
    assert callers.last_write("usr_before") == 40
    assert callers.last_write("usr_after") == 100


def test_a_shared_record_lets_a_write_answer_without_waiting(
    app: Jobstream, callers: SharedCallerPositions
) -> None:
    remote = FixedRemote(at=5)
    model = hosted(app, remote, head=9, callers=callers)
    model.settle(9, "usr_1")  # the view is at 5: it would time out if it waited
    assert remote.waits == []
    assert callers.last_write("usr_1") == 9
    assert not model.is_current("usr_1")  # the caller's next read waits for it


def test_where_callers_are_not_shared_writes_and_reads_wait_as_before(
    app: Jobstream,
) -> None:
    remote = FixedRemote(at=5)
    model = hosted(app, remote, head=9, callers=UnsharedCallerPositions())
    model.settle(5, "usr_1")
    assert remote.waits == [5]  # the write waited for the view
    assert not model.is_current("usr_1")  # the read waits for the head (9)
    with pytest.raises(ReadModelLagError):
        model.catch_up("usr_1")
    assert remote.waits == [5, 9]


def test_no_read_answers_from_a_view_behind_where_the_log_was_at_start(
    app: Jobstream, callers: SharedCallerPositions
) -> None:
    # After a restart, or while a deleted view is rebuilt: reads wait as before.
    remote = FixedRemote(at=5)
    model = hosted(app, remote, head=9, callers=callers)
    model.start_reading()
    assert not model.is_current("usr_idle")  # never wrote, yet the view is behind
    with pytest.raises(ReadModelLagError):
        model.catch_up("usr_idle")
    assert remote.waits == [9]
