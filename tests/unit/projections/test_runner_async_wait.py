"""A coroutine waits for the runner's position without a thread, woken once per advance."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from projections.runner import CatchUpRunner
from tests.unit.projections.test_poison import Log, Mapper


class Applied:
    def __init__(self) -> None:
        self.positions: list[int] = []

    def __call__(self, batch: Any) -> None:
        self.positions.extend(position for position, _ in batch)


def runner_over(count: int, batch_size: int = 2) -> CatchUpRunner:
    return CatchUpRunner(
        name="test",
        recorder=cast("Any", Log(count)),
        mapper=cast("Any", Mapper()),
        topics=(),
        start_position=lambda: 0,
        handler=Applied(),
        batch_size=batch_size,  # pages of two: several advances
    )


async def test_a_waiting_coroutine_is_answered_once_the_runner_passes_its_position() -> (
    None
):
    runner = runner_over(6)
    waits = [asyncio.ensure_future(runner.wait_for_async(p, 5)) for p in (2, 5)]
    await asyncio.sleep(0)

    await asyncio.to_thread(runner.run_once)  # folds 1-2
    await asyncio.sleep(0.01)
    assert (waits[0].done(), waits[1].done()) == (True, False)
    await asyncio.to_thread(runner.run_once)  # 3-4: not yet
    await asyncio.sleep(0.01)
    assert not waits[1].done()
    await asyncio.to_thread(runner.run_once)  # 5-6

    assert await asyncio.gather(*waits) == [True, True]


async def test_a_position_already_folded_answers_at_once() -> None:
    runner = runner_over(2)
    runner.run_once()

    assert await runner.wait_for_async(2, 0.001) is True


async def test_a_runner_that_does_not_get_there_in_time_answers_false() -> None:
    runner = runner_over(2)

    assert await runner.wait_for_async(1, 0.02) is False
    runner.run_once()  # the timed-out waiter left nothing behind to answer
    assert await runner.wait_for_async(1, 0.02) is True
