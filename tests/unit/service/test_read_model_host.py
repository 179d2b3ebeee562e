"""The read-model host over in-memory views, the head it waits for, remote positions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from domain.strategies import BatchJobDraft
from projections.read_models.known import BATCH_JOBS, CATALOG
from service.application import Jobstream
from service.catalog.commands import Catalog
from service.read_model_lag import ReadModelLagError
from service.read_models.head import KnownHead
from service.read_models.host import ReadModelHost
from service.read_models.remote_positions import (
    PollingRemotePositions,
    notice,
    parse_notice,
)
from service.settings import Settings

DRAFT = BatchJobDraft(type="product-export", context={}, dry_run=True)


@pytest.fixture
def app() -> Iterator[Jobstream]:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def memory_host(
    app: Jobstream, *, project: bool = True, timeout: float = 2.0
) -> ReadModelHost:
    settings = Settings(read_your_writes_timeout=timeout)
    return ReadModelHost(
        settings, app, project=project, backend="memory", definitions=(BATCH_JOBS,)
    )


def test_a_write_settled_is_in_the_next_read(app: Jobstream) -> None:
    host = memory_host(app)
    host.start()
    try:
        job, position = app.create_batch_job(DRAFT, "usr_1")
        host.settle(position)
        found = host[BATCH_JOBS.name].view.get_batch_job(job.id)
        host.catch_up()
    finally:
        host.stop()

    assert found is not None
    assert found.status.value == "created"
    assert host[BATCH_JOBS.name].recorded() == position


def test_health_and_details_name_each_model_as_before(app: Jobstream) -> None:
    host = memory_host(app)
    host.start()
    try:
        _, position = app.create_batch_job(DRAFT, "usr_1")
        host.settle(position)
        probes = {name: probe() for name, probe in host.probes().items()}
        states = host.runner_states()
        details = host.details(head=position + 2)
    finally:
        host.stop()

    assert probes == {"read_model": position}
    assert states == {"projection.batchjobs": "ok"}
    assert details["projection_position"] == position
    assert details["projection_lag"] == 2
    assert details["parked"] == {"batchjobs": {"count": 0, "events": []}}
    assert details["stuck"] == {}


def test_a_read_that_cannot_catch_up_in_time_raises(app: Jobstream) -> None:
    host = memory_host(app, timeout=0.05)  # never started: nothing projects
    app.create_batch_job(DRAFT, "usr_1")

    with pytest.raises(ReadModelLagError):
        host[BATCH_JOBS.name].catch_up()


def test_an_unknown_read_model_is_named_with_the_known_ones(app: Jobstream) -> None:
    host = memory_host(app)
    with pytest.raises(ValueError, match="batchjobs"):
        host["nope"]


def test_the_head_is_learnt_from_saves_and_asked_for_only_when_unknown() -> None:
    asked: list[int] = []
    stored = [10]

    def query() -> int:
        asked.append(stored[0])
        return stored[0]

    head = KnownHead(query)
    first = head()  # never learnt: asks
    head.saved(12)
    learnt = head()  # from memory
    head.saved(None)  # a save that did not say where it ended
    stored[0] = 15
    after_unknown = head()

    assert (first, learnt, after_unknown) == (10, 12, 15)
    assert asked == [10, 15]


def test_the_head_asks_each_time_while_saves_may_go_unheard() -> None:
    calls: list[int] = []

    def query() -> int:
        calls.append(3)
        return 3

    head = KnownHead(query, complete=lambda: False)
    head.saved(3)
    head()
    head()
    assert calls == [3, 3]


def test_polling_positions_wait_until_the_store_records_the_position() -> None:
    recorded = {"batchjobs": 1}
    remote = PollingRemotePositions(lambda name: recorded[name], interval=0.001)
    threading.Timer(0.05, lambda: recorded.update(batchjobs=5)).start()

    started = time.monotonic()
    reached = remote.wait("batchjobs", 5, timeout=2)

    assert reached
    assert time.monotonic() - started < 1
    assert not remote.wait("batchjobs", 6, timeout=0.02)


def test_a_notice_names_a_model_and_its_position() -> None:
    assert parse_notice(notice("batchjobs", 42)) == ("batchjobs", 42)
    assert parse_notice("garbage") is None
    assert parse_notice("batchjobs:x") is None


def test_the_catalog_projects_into_memory_too(app: Jobstream) -> None:
    settings = Settings(read_your_writes_timeout=2.0)
    host = ReadModelHost(settings, app, backend="memory")
    host.start()
    try:
        collection, position = Catalog(app).create_collection(
            {"title": "Summer", "handle": "summer", "metadata": None}, "usr_1"
        )
        host.settle(position)  # every read model: the catalog, and batch jobs past it
        records = host[CATALOG.name].view.list_records("collection")
        jobs_at = host[BATCH_JOBS.name].recorded()
    finally:
        host.stop()

    assert [r.id for r in records] == [collection.id]
    assert records[0].state["title"] == "Summer"
    assert jobs_at == position  # recorded past events it does not follow
