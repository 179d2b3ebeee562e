"""Concurrent callers' items written together (service.leader_batches)."""

from __future__ import annotations

import threading
import time

import pytest

from service.leader_batches import LeaderBatches


def batches_while_the_first_write_waits(
    waiting: int, max_batch: int
) -> list[list[int]]:
    """The batches written when `waiting` items arrive during the first write."""
    batches: list[list[int]] = []
    first_started, release = threading.Event(), threading.Event()

    def write(batch: list[int]) -> None:
        batches.append(batch)
        if len(batches) == 1:
            first_started.set()
            assert release.wait(5)

    leader = LeaderBatches(write, max_batch=max_batch)
    first = threading.Thread(target=leader.run, args=(0,))
    first.start()
    assert first_started.wait(5)
    threads = [
        threading.Thread(target=leader.run, args=(n,)) for n in range(1, waiting + 1)
    ]
    for thread in threads:
        thread.start()
    while len(leader._pending) < waiting:  # until all of them wait
        time.sleep(0.001)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    return batches


def test_items_given_during_a_write_go_together_in_the_next() -> None:
    batches = batches_while_the_first_write_waits(3, max_batch=200)
    assert batches[0] == [0]
    assert sorted(batches[1]) == [1, 2, 3]
    assert len(batches) == 2


def test_a_batch_holds_max_batch_items_at_most() -> None:
    batches = batches_while_the_first_write_waits(3, max_batch=2)
    assert [len(batch) for batch in batches] == [1, 2, 1]
    assert sorted(n for batch in batches for n in batch) == [0, 1, 2, 3]


def test_an_item_alone_is_written_at_once() -> None:
    batches: list[list[int]] = []
    leader = LeaderBatches(batches.append)
    for n in range(3):
        leader.run(n)
    assert batches == [[0], [1], [2]]


def test_every_caller_of_a_failed_batch_hears_of_it_and_the_next_batch_runs() -> None:
    calls: list[list[str]] = []

    def write(batch: list[str]) -> None:
        calls.append(batch)
        if "bad" in batch:
            raise RuntimeError("store down")

    leader = LeaderBatches(write)
    with pytest.raises(RuntimeError, match="store down"):
        leader.run("bad")
    leader.run("good")  # leadership was handed back: nothing is stuck
    assert calls == [["bad"], ["good"]]
