"""Embedded processes on one data directory: the read-model host over SharedPositions.

A keeping host (the primary's) and a reading one (another HTTP process's), each
with its own application on the same SQLite files, as two processes would be: the
reader's saves wake the keeper's runners and its other runners (`also_wake`), the
keeper publishes its positions, and the reader's waits and `is_current` follow them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from domain.strategies import BatchJobDraft
from projections.read_models.known import BATCH_JOBS
from service.bootstrap.stores import build_app
from service.read_models.head import QueriedHead
from service.read_models.host import ReadModelHost
from service.read_models.shared_positions import SharedPositions
from tests.conftest import make_settings

DRAFT = BatchJobDraft(type="product-export", context={}, dry_run=True)


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[ReadModelHost, ReadModelHost]]:
    settings = make_settings(tmp_path)
    keeper_app, reader_app = build_app(settings), build_app(settings)
    keeper = ReadModelHost(settings, keeper_app, project=True, other_writers=True)
    reader = ReadModelHost(settings, reader_app, project=False, other_writers=True)
    try:
        yield keeper, reader
    finally:
        reader.stop()
        keeper.stop()
        reader_app.close()
        keeper_app.close()


def test_a_save_in_another_process_is_projected_and_waited_for(
    hosts: tuple[ReadModelHost, ReadModelHost],
) -> None:
    keeper, reader = hosts
    woken: list[Sequence[str] | None] = []
    engine_woken = threading.Event()

    def wake_engine(topics: Sequence[str] | None) -> None:
        woken.append(topics)
        engine_woken.set()

    keeper.also_wake.append(wake_engine)
    keeper.start()
    reader.start()
    assert isinstance(reader.remote, SharedPositions)
    assert isinstance(reader.head, QueriedHead)  # others' saves are not heard

    job, position = reader.app.create_batch_job(DRAFT, "usr_1")
    reader.settle(position)  # returns once the keeper published the position

    model = reader[BATCH_JOBS.name]
    assert reader.remote.position(BATCH_JOBS.name) >= position
    assert model.is_current()
    found = model.view.get_document(job.id)
    assert found is not None
    assert found[0] == "usr_1"
    assert engine_woken.wait(5.0)  # the primary's job engine hears the save too
    assert woken[0] is not None
    assert any("BatchJob" in topic for topic in woken[0])


def test_a_reader_behind_the_log_is_not_current(
    hosts: tuple[ReadModelHost, ReadModelHost],
) -> None:
    keeper, reader = hosts
    reader.start()  # nobody keeps the read models yet: positions stand still
    _, position = reader.app.create_batch_job(DRAFT, "usr_1")

    assert not reader[BATCH_JOBS.name].is_current()

    keeper.start()
    reader.settle(position)
    assert reader[BATCH_JOBS.name].is_current()
