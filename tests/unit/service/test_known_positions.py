"""What a read knows without asking the store: the head, a remote position, currency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections.read_models.known import BATCH_JOBS
from service.application import Jobstream
from service.read_models.head import KnownHead, QueriedHead
from service.read_models.host import HostedReadModel
from service.read_models.remote_positions import NotifiedRemotePositions, notice
from service.stores import in_memory_view


class Store:
    """The log's head and the view's recorded position, counting each look."""

    def __init__(self, head: int = 0, recorded: int = 0) -> None:
        self.head, self.recorded = head, recorded
        self.looks = 0

    def query_head(self) -> int:
        self.looks += 1
        return self.head

    def read_position(self, name: str) -> int:
        self.looks += 1
        return self.recorded


@pytest.fixture
def app() -> Iterator[Jobstream]:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def test_the_head_is_asked_of_the_store_only_when_it_cannot_be_known() -> None:
    store = Store(head=10)
    listening = [True]
    head = KnownHead(store.query_head, complete=lambda: listening[0])

    first = head()  # never learnt: asked
    head.saved(12)
    learnt = head()
    listening[0] = False  # saves may go unheard: asked
    unheard = head()
    listening[0] = True
    head.saved(None)  # a save that did not say where it ended: asked
    unknown_save = head()
    again = head()

    assert (first, learnt, unheard, unknown_save, again) == (10, 12, 12, 12, 12)
    assert store.looks == 3


def test_a_head_asked_each_time_asks_each_time() -> None:
    store = Store(head=4)
    head = QueriedHead(store.query_head)
    head.saved(9)
    assert (head(), head()) == (4, 4)
    assert store.looks == 2


def test_a_remote_position_told_is_used_until_a_reconnect() -> None:
    store = Store(recorded=3)
    remote = NotifiedRemotePositions(store.read_position)
    remote.listening_changed(listening=True)

    remote.heard(notice("batchjobs", 7))
    told = remote.position("batchjobs")
    remote.listening_changed(listening=True)  # notices may have been lost meanwhile
    reconnected = remote.position("batchjobs")

    assert (told, reconnected) == (7, 3)
    assert store.looks == 1


@pytest.mark.parametrize("project", [False, True])
def test_where_reads_are_not_local_no_read_is_current_from_memory(
    app: Jobstream, project: bool
) -> None:
    # On PostgreSQL the hot lane's reads check the view in their own round trip.
    store = Store(head=0, recorded=0)
    view = in_memory_view(BATCH_JOBS.name, BATCH_JOBS.view_class("memory"))
    model: HostedReadModel[object] = HostedReadModel(
        BATCH_JOBS,
        view,
        app=app,
        project=project,
        timeout=1.0,
        head=KnownHead(store.query_head),
        remote=NotifiedRemotePositions(store.read_position),
    )
    assert not model.is_current("usr_1")
    assert not model.is_current()
    assert store.looks == 0
