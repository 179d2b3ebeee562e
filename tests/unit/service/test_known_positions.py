"""What a read knows without I/O: the head, a remote position, whether it is current."""

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


def test_the_head_is_known_only_once_learnt_and_while_every_save_is_heard() -> None:
    store = Store(head=10)
    listening = [True]
    head = KnownHead(store.query_head, complete=lambda: listening[0])

    never_asked = head.known()
    head()  # asks the store: now known
    asked = head.known()
    head.saved(12)
    learnt = head.known()
    listening[0] = False
    unheard = head.known()
    listening[0] = True
    head.saved(None)  # a save that did not say where it ended
    unknown_save = head.known()

    assert (never_asked, asked, learnt, unheard, unknown_save) == (
        None,
        10,
        12,
        None,
        None,
    )
    assert store.looks == 1  # known() never asks


def test_a_head_asked_each_time_is_never_known() -> None:
    store = Store(head=4)
    head = QueriedHead(store.query_head)
    head()
    assert head.known() is None


def test_a_remote_position_is_known_once_told_and_forgotten_on_reconnect() -> None:
    store = Store(recorded=3)
    remote = NotifiedRemotePositions(store.read_position)
    remote.listening_changed(listening=True)

    never_told = remote.known("batchjobs")
    remote.heard(notice("batchjobs", 7))
    told = remote.known("batchjobs")
    remote.listening_changed(listening=True)  # notices may have been lost meanwhile
    reconnected = remote.known("batchjobs")

    assert (never_told, told, reconnected) == (None, 7, None)
    assert store.looks == 0


def hosted(
    app: Jobstream,
    store: Store,
    *,
    listening: list[bool],
    project: bool = False,
    heard_positions: bool = True,
) -> tuple[HostedReadModel[object], KnownHead, NotifiedRemotePositions]:
    """The batch-jobs model as on PostgreSQL: head and positions heard, not asked.

    `heard_positions` False: as the host builds it elsewhere (never current from memory).
    """
    head = KnownHead(store.query_head, complete=lambda: listening[0])
    remote = NotifiedRemotePositions(store.read_position)
    view = in_memory_view(BATCH_JOBS.name, BATCH_JOBS.view_class("memory"))
    model: HostedReadModel[object] = HostedReadModel(
        BATCH_JOBS,
        view,
        app=app,
        project=project,
        timeout=1.0,
        head=head,
        remote=remote,
        heard_positions=heard_positions,
    )
    return model, head, remote


def test_on_postgresql_a_read_is_current_only_when_head_and_position_are_known(
    app: Jobstream,
) -> None:
    store = Store(head=5, recorded=5)
    listening = [True]
    model, head, remote = hosted(app, store, listening=listening)

    head_unknown = model.is_current("usr_1")
    head()  # the head asked once (as a read on a thread does)
    looks = store.looks
    position_unknown = model.is_current("usr_1")
    remote.heard(notice(BATCH_JOBS.name, 4))
    behind = model.is_current("usr_1")
    remote.heard(notice(BATCH_JOBS.name, 5))
    current = model.is_current("usr_1")
    listening[0] = False
    listener_down = model.is_current("usr_1")
    listening[0] = True
    head.saved(None)
    save_unknown = model.is_current("usr_1")

    assert (head_unknown, position_unknown, behind, current) == (
        False,
        False,
        False,
        True,
    )
    assert (listener_down, save_unknown) == (False, False)
    assert store.looks == looks  # is_current never looked at the store


def test_a_keeper_is_current_from_its_runners_position(app: Jobstream) -> None:
    store = Store(head=0)
    model, head, _ = hosted(app, store, listening=[True], project=True)
    head()

    at_start = model.is_current("usr_1")  # the runner at 0, the log empty
    head.saved(3)
    behind = model.is_current("usr_1")

    assert (at_start, behind) == (True, False)


def test_without_heard_positions_a_read_is_never_current_from_memory(
    app: Jobstream,
) -> None:
    store = Store(head=0)
    model, head, _ = hosted(
        app, store, listening=[True], project=True, heard_positions=False
    )
    head()
    assert not model.is_current("usr_1")
