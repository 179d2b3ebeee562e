"""A coroutine waits for another process's read model by its notices, holding no thread.

The store is a counter of reads here: a wait that heard its notice never reads it.
"""

from __future__ import annotations

import asyncio
import threading

from service.read_models.remote_positions import NotifiedRemotePositions, notice


class Store:
    """The recorded positions, counting each read."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.reads = 0

    def __call__(self, name: str) -> int:
        self.reads += 1
        return self.positions.get(name, 0)


def listening(store: Store, fallback_seconds: float = 5.0) -> NotifiedRemotePositions:
    remote = NotifiedRemotePositions(store, fallback_seconds=fallback_seconds)
    remote.listening_changed(listening=True)
    remote.heard(notice("batchjobs", 1))  # known: waits count on notices from here
    return remote


def from_listener(remote: NotifiedRemotePositions, payload: str) -> None:
    """A notice as the listener's thread hands it over."""
    thread = threading.Thread(target=remote.heard, args=(payload,))
    thread.start()
    thread.join()


async def test_a_position_already_told_answers_at_once() -> None:
    store = Store()
    remote = listening(store)
    remote.heard(notice("batchjobs", 7))

    assert await remote.wait_async("batchjobs", 7, 1.0) is True
    assert store.reads == 0


async def test_waits_are_answered_by_the_notice_that_passes_them_and_not_before() -> (
    None
):
    store = Store()
    remote = listening(store)
    near = asyncio.ensure_future(remote.wait_async("batchjobs", 3, 5.0))
    far = asyncio.ensure_future(remote.wait_async("batchjobs", 9, 5.0))
    await asyncio.sleep(0.01)

    from_listener(remote, notice("catalog", 50))  # another read model's notice
    await asyncio.sleep(0.01)
    assert not near.done()

    from_listener(remote, notice("batchjobs", 4))
    assert await asyncio.wait_for(near, 1.0) is True
    await asyncio.sleep(0.01)
    assert not far.done()

    from_listener(remote, notice("batchjobs", 9))
    assert await asyncio.wait_for(far, 1.0) is True
    assert store.reads == 0


async def test_a_lost_listen_sends_the_waiters_to_the_store() -> None:
    store = Store()
    remote = listening(store)
    wait = asyncio.ensure_future(remote.wait_async("batchjobs", 5, 5.0))
    await asyncio.sleep(0.01)

    store.positions["batchjobs"] = 5  # folded; its notice was lost with the listener
    remote.listening_changed(listening=False)

    assert await asyncio.wait_for(wait, 2.0) is True
    assert store.reads >= 1


async def test_with_no_notice_within_the_fallback_pace_the_store_is_read() -> None:
    store = Store()
    remote = listening(store, fallback_seconds=0.05)
    store.positions["batchjobs"] = 6  # a notice that never arrived

    assert await remote.wait_async("batchjobs", 6, 2.0) is True
    assert store.reads >= 1


async def test_a_position_never_reached_times_out_false() -> None:
    store = Store()
    remote = listening(store, fallback_seconds=0.05)

    assert await remote.wait_async("batchjobs", 6, 0.2) is False


async def test_a_timed_out_wait_leaves_no_waiter_behind() -> None:
    store = Store()
    remote = listening(store)
    gave_up = asyncio.ensure_future(remote.wait_async("batchjobs", 8, 0.05))
    await asyncio.sleep(0.01)
    gave_up.cancel()
    await asyncio.gather(gave_up, return_exceptions=True)

    from_listener(remote, notice("batchjobs", 8))  # answers nobody, raises nothing
    assert await remote.wait_async("batchjobs", 8, 0.1) is True
    assert not remote._async_waiters
