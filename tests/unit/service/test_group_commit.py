"""Group commit: concurrent saves share a transaction; a conflict stays with its writer."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from service.group_commit import GroupCommit


@dataclass
class FakeEvent:
    originator_id: str
    conflicts: bool = False


@dataclass
class FakeAggregate:
    """Like an eventsourcing aggregate: collect_events() hands its events over once."""

    id: str
    conflicts: bool = False
    collected: bool = False

    def collect_events(self) -> list[FakeEvent]:
        if self.collected:
            return []
        self.collected = True
        return [FakeEvent(self.id, self.conflicts)]


@dataclass
class FakeNotification:
    id: int


@dataclass
class FakeRecording:
    domain_event: FakeEvent
    notification: FakeNotification


class FakeStore:
    """Records each save call; slow enough that concurrent writers pile up."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.position = 0
        self.lock = threading.Lock()

    def save(self, *events: FakeEvent) -> list[FakeRecording]:
        with self.lock:
            self.calls.append([e.originator_id for e in events])
            time.sleep(0.01)
            if any(e.conflicts for e in events):
                raise IntegrityError("duplicate key")
            recordings = []
            for event in events:
                self.position += 1
                recordings.append(FakeRecording(event, FakeNotification(self.position)))
            return recordings


def save_concurrently(
    commit: GroupCommit, aggregates: list[FakeAggregate]
) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}

    def write(aggregate: FakeAggregate) -> None:
        try:
            outcomes[aggregate.id] = commit.save(aggregate)
        except IntegrityError as error:
            outcomes[aggregate.id] = error

    threads = [threading.Thread(target=write, args=(a,)) for a in aggregates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_concurrent_saves_are_written_together_with_their_own_positions() -> None:
    store = FakeStore()
    aggregates = [FakeAggregate(f"a{i}") for i in range(40)]

    outcomes = save_concurrently(GroupCommit(store.save), aggregates)

    assert len(store.calls) < 40  # batched
    assert sorted(a for call in store.calls for a in call) == sorted(
        a.id for a in aggregates
    )
    positions = sorted(outcomes.values())
    assert positions == list(range(1, 41))  # each writer got its own event's position


def test_a_conflict_fails_only_the_writer_whose_aggregate_conflicts() -> None:
    store = FakeStore()
    aggregates = [FakeAggregate(f"a{i}", conflicts=(i == 7)) for i in range(20)]

    outcomes = save_concurrently(GroupCommit(store.save), aggregates)

    assert isinstance(outcomes.pop("a7"), IntegrityError)
    assert all(
        isinstance(position, int) and position > 0 for position in outcomes.values()
    )
    saved = [a for call in store.calls for a in call if len(call) == 1]
    assert "a7" in saved  # retried alone


def test_after_a_failed_batch_the_others_are_still_saved_not_lost() -> None:
    store = FakeStore()
    aggregates = [FakeAggregate(f"a{i}", conflicts=(i == 3)) for i in range(20)]

    save_concurrently(GroupCommit(store.save), aggregates)

    # Every writer but the conflicting one has its event in a successful call.
    succeeded = [ids for ids in store.calls if "a3" not in ids]
    assert sorted(a for ids in succeeded for a in ids) == sorted(
        a.id for a in aggregates if a.id != "a3"
    )


def test_nothing_to_save_writes_nothing() -> None:
    store = FakeStore()
    aggregate = FakeAggregate("x", collected=True)

    assert GroupCommit(store.save).save(aggregate) == 0
    assert store.calls == []


def test_a_lone_save_is_written_at_once() -> None:
    store = FakeStore()

    position = GroupCommit(store.save).save(FakeAggregate("only"))

    assert (position, store.calls) == (1, [["only"]])


def test_an_unexpected_error_reaches_every_writer_of_the_batch() -> None:
    def broken(*_: FakeEvent) -> list[FakeRecording]:
        time.sleep(0.01)
        raise OSError("disk gone")

    outcomes: dict[str, Any] = {}
    commit = GroupCommit(broken)

    def write(name: str) -> None:
        try:
            commit.save(FakeAggregate(name))
        except OSError as error:
            outcomes[name] = error

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(outcomes) == 10
    with pytest.raises(OSError, match="disk gone"):
        raise outcomes["w0"]
