"""Group commit from coroutines: batched like threads' saves, the event loop never blocked."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from service.group_commit import GroupCommit
from tests.unit.service.test_group_commit import (
    FakeAggregate,
    FakeEvent,
    FakeRecording,
    FakeStore,
)


async def outcome(commit: GroupCommit, aggregate: FakeAggregate) -> Any:
    try:
        return await commit.save_async(aggregate)
    except (IntegrityError, OSError) as error:
        return error


async def test_concurrent_coroutines_share_batches_with_their_own_positions() -> None:
    store = FakeStore()
    commit = GroupCommit(store.save)
    aggregates = [FakeAggregate(f"a{i}") for i in range(40)]

    positions = await asyncio.gather(*(commit.save_async(a) for a in aggregates))

    assert len(store.calls) < 40  # batched
    assert sorted(a for call in store.calls for a in call) == sorted(
        a.id for a in aggregates
    )
    assert sorted(positions) == list(range(1, 41))
    commit.close()


async def test_the_event_loop_runs_on_while_a_batch_is_written() -> None:
    started, release = threading.Event(), threading.Event()

    def slow(*events: FakeEvent) -> list[FakeRecording]:
        started.set()
        release.wait(5)
        return FakeStore().save(*events)

    commit = GroupCommit(slow)
    save = asyncio.ensure_future(commit.save_async(FakeAggregate("x")))
    assert await asyncio.to_thread(started.wait, 5)
    # The loop turns (it ran the thread's answer above) while the store still writes.
    await asyncio.sleep(0.01)
    assert not save.done()
    release.set()

    assert await save == 1
    commit.close()


async def test_threads_and_coroutines_saving_at_once_all_get_their_positions() -> None:
    store = FakeStore()
    commit = GroupCommit(store.save)
    from_threads: list[int] = []

    def write(name: str) -> None:
        from_threads.append(commit.save(FakeAggregate(name)))

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(15)]
    for thread in threads:
        thread.start()
    from_loop = await asyncio.gather(
        *(commit.save_async(FakeAggregate(f"c{i}")) for i in range(15))
    )
    for thread in threads:
        await asyncio.to_thread(thread.join, 10)

    assert sorted(from_threads + list(from_loop)) == list(range(1, 31))
    commit.close()


async def test_a_conflict_fails_only_the_coroutine_whose_aggregate_conflicts() -> None:
    store = FakeStore()
    commit = GroupCommit(store.save)
    aggregates = [FakeAggregate(f"a{i}", conflicts=(i == 4)) for i in range(12)]

    outcomes = await asyncio.gather(*(outcome(commit, a) for a in aggregates))

    assert isinstance(outcomes[4], IntegrityError)
    others = outcomes[:4] + outcomes[5:]
    assert all(isinstance(p, int) and p > 0 for p in others)
    commit.close()


async def test_an_error_reaches_every_coroutine_of_the_batch() -> None:
    def broken(*_: FakeEvent) -> list[FakeRecording]:
        time.sleep(0.01)
        raise OSError("disk gone")

    commit = GroupCommit(broken)

    outcomes = await asyncio.gather(
        *(outcome(commit, FakeAggregate(f"w{i}")) for i in range(10))
    )

    assert all(isinstance(o, OSError) for o in outcomes)
    commit.close()


async def test_a_coroutine_cancelled_while_waiting_still_has_its_write_stored() -> None:
    store = FakeStore()
    commit = GroupCommit(store.save)
    save = asyncio.ensure_future(commit.save_async(FakeAggregate("gone")))
    await asyncio.sleep(0)
    save.cancel()
    with pytest.raises(asyncio.CancelledError):
        await save
    commit.close()  # waits for what was submitted

    assert store.calls == [["gone"]]
    # And the commit goes on serving others.
    fresh = GroupCommit(store.save)
    assert await fresh.save_async(FakeAggregate("next")) == 2
    fresh.close()


async def test_nothing_to_save_from_a_coroutine_writes_nothing() -> None:
    store = FakeStore()

    assert (
        await GroupCommit(store.save).save_async(FakeAggregate("x", collected=True))
        == 0
    )
    assert store.calls == []
