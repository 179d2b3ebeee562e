"""Positions and wake-ups shared by the processes of one data directory (two instances here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from service.read_models import shared_positions
from service.read_models.shared_positions import SharedPositions


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SharedPositions, SharedPositions]]:
    """The projecting process's view of the file, and another process's."""
    projector, reader = SharedPositions(tmp_path), SharedPositions(tmp_path)
    try:
        yield projector, reader
    finally:
        reader.close()
        projector.close()


def test_a_published_position_is_read_by_the_other_instance(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, reader = pair
    projector.publish("batchjobs", 41)
    projector.publish("batchjobs", 7)  # never backwards
    assert reader.position("batchjobs") == 41
    assert reader.position("catalog") == 0


def test_reset_moves_a_position_back_for_a_rebuilt_read_model(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, reader = pair
    projector.publish("batchjobs", 41)
    projector.reset("batchjobs", 3)
    assert reader.position("batchjobs") == 3


def test_a_position_survives_the_instances(tmp_path: Path) -> None:
    first = SharedPositions(tmp_path)
    first.publish("catalog", 12)
    first.close()
    second = SharedPositions(tmp_path)
    assert second.position("catalog") == 12
    second.close()


def test_wait_returns_once_the_position_is_published(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, reader = pair
    timer = threading.Timer(0.05, projector.publish, args=("batchjobs", 5))
    timer.start()
    assert reader.wait("batchjobs", 5, timeout=10)
    timer.join()


def test_wait_gives_up_after_its_timeout(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    _, reader = pair
    assert not reader.wait("batchjobs", 1, timeout=0.05)


def test_the_listener_hears_the_stored_topics_and_plain_wake_ups(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, reader = pair
    heard: list[Collection[str] | None] = []
    assert projector.listen(heard.append)
    reader.announce(["a:Created", "b:Updated"])
    reader.announce([])
    reader.wait("batchjobs", 1, timeout=0.01)  # a wait names what it waits for
    deadline = time.monotonic() + 10
    while len(heard) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == [["a:Created", "b:Updated"], None, ["@batchjobs"]]
    assert [shared_positions.waited_for(topics) for topics in heard] == [
        None,
        None,
        ["batchjobs"],
    ]


def test_only_one_instance_listens_per_data_directory(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, reader = pair
    assert projector.listen(lambda _: None)
    assert not reader.listen(lambda _: None)


def test_an_unknown_read_model_is_refused(
    pair: tuple[SharedPositions, SharedPositions],
) -> None:
    projector, _ = pair
    with pytest.raises(ValueError, match="no shared position"):
        projector.publish("nosuch", 1)
