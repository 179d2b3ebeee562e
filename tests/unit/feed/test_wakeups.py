"""Wakeups: readers woken from any thread, for their topics only, and let go of."""

from __future__ import annotations

import asyncio
import threading

from service.feed.wakeups import Wakeups

JOB_TOPIC, USER_TOPIC = (
    "domain.batch_jobs:BatchJob.Created",
    "domain.users:User.Created",
)


def wakeups(head: list[int] | None = None, poll: float = 60.0) -> Wakeups:
    position = head if head is not None else [0]
    return Wakeups([JOB_TOPIC], lambda: position[0], poll_seconds=poll)


async def test_a_save_in_another_thread_wakes_a_reader() -> None:
    hub = wakeups()
    waiter = hub.add()
    waiter.clear()

    saver = threading.Thread(target=hub.wake_for, args=([JOB_TOPIC],))
    saver.start()
    woken = await waiter.wait(5)
    saver.join()

    assert woken
    hub.discard(waiter)


async def test_a_save_of_other_topics_lets_readers_sleep() -> None:
    hub = wakeups()
    waiter = hub.add()
    waiter.clear()

    hub.wake_for([USER_TOPIC])

    assert not await waiter.wait(0.05)
    hub.wake_for(None)  # topics not known: wake
    assert await waiter.wait(1)
    hub.discard(waiter)


async def test_a_head_that_moved_unheard_wakes_readers_within_a_poll() -> None:
    head = [10]
    hub = wakeups(head, poll=0.05)
    waiter = hub.add()
    await asyncio.sleep(0.1)  # the watcher has seen 10
    waiter.clear()

    head[0] = 12  # another process saved; nobody told this one

    assert await waiter.wait(2)
    hub.discard(waiter)


async def test_a_watched_position_that_moves_wakes_readers_long_before_a_poll() -> None:
    hub = wakeups(poll=60.0)  # the head is looked at once a minute
    projected = [5]
    hub.watch_moves(lambda: projected[0])
    waiter = hub.add()
    await asyncio.sleep(0.02)  # the watcher has seen 5
    waiter.clear()
    assert not await waiter.wait(0.05)  # nothing moved: the reader sleeps

    projected[0] = 7  # another process's save, projected
    started = asyncio.get_running_loop().time()

    assert await waiter.wait(2)
    assert asyncio.get_running_loop().time() - started < 0.5
    hub.discard(waiter)


async def test_closing_wakes_every_reader_and_the_last_one_gone_stops_the_watch() -> (
    None
):
    hub = wakeups(poll=0.05)
    readers = [hub.add(), hub.add()]
    for waiter in readers:
        waiter.clear()

    hub.close()

    assert hub.closed
    assert [await w.wait(1) for w in readers] == [True, True]
    for waiter in readers:
        hub.discard(waiter)
    assert hub.readers == 0
    await asyncio.sleep(0.2)
    assert hub._watcher is not None and hub._watcher.done()


def test_a_save_with_nobody_reading_does_nothing() -> None:
    hub = wakeups()

    hub.wake_for([JOB_TOPIC])  # no loop, no waiter: nothing to do

    assert hub.readers == 0
