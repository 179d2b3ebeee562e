"""The login limiter's sliding window, the hash pool's bounds, the dummy hash."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from service.auth.hash_pool import HashPool, HashPoolBusyError
from service.auth.login_limits import LoginLimiter, LoginThrottledError
from service.auth.passwords import check_password
from tests.support import password_hash


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failures(limiter: LoginLimiter, account: str, address: str, count: int) -> None:
    for _ in range(count):
        limiter.begin(account, address)


def test_an_account_is_throttled_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_account=3, per_address=0, window_seconds=60, clock=clock)
    failures(limiter, "a@x.io", "1.1.1.1", 2)
    clock.now += 30
    failures(limiter, "A@X.io", "2.2.2.2", 1)  # emails match whatever their case

    with pytest.raises(LoginThrottledError) as throttled:
        limiter.begin("a@x.io", "3.3.3.3")
    assert throttled.value.retry_after == pytest.approx(30)
    limiter.begin("b@x.io", "1.1.1.1")  # another account is not affected

    clock.now += 30.5  # the first two failures left the window
    limiter.begin("a@x.io", "1.1.1.1")


def test_an_address_is_throttled_across_accounts() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_account=0, per_address=2, window_seconds=60, clock=clock)
    limiter.begin("a@x.io", "1.1.1.1")
    limiter.begin("b@x.io", "1.1.1.1")

    with pytest.raises(LoginThrottledError):
        limiter.begin("c@x.io", "1.1.1.1")
    limiter.begin("c@x.io", "9.9.9.9")


def test_a_success_clears_the_account_and_takes_back_its_own_attempt() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_account=3, per_address=3, window_seconds=60, clock=clock)
    failures(limiter, "a@x.io", "1.1.1.1", 2)
    clock.now += 1
    limiter.succeeded(limiter.begin("a@x.io", "1.1.1.1"))

    failures(limiter, "a@x.io", "2.2.2.2", 3)  # the account starts over
    limiter.begin("b@x.io", "1.1.1.1")  # the address holds its 2 failures, not 3
    with pytest.raises(LoginThrottledError):
        limiter.begin("c@x.io", "1.1.1.1")


def test_an_abandoned_attempt_does_not_count() -> None:
    limiter = LoginLimiter(per_account=1, per_address=1, window_seconds=60)
    limiter.abandoned(limiter.begin("a@x.io", "1.1.1.1"))

    limiter.begin("a@x.io", "1.1.1.1")
    with pytest.raises(LoginThrottledError):
        limiter.begin("a@x.io", "1.1.1.1")


async def test_the_pool_turns_work_away_when_its_queue_is_full() -> None:
    release = threading.Event()
    pool = HashPool(threads=1, queue=1, max_wait=10)
    try:
        running = asyncio.create_task(pool.run(release.wait))
        queued = asyncio.create_task(pool.run(lambda: "queued"))
        await asyncio.sleep(0.05)

        started = time.monotonic()
        with pytest.raises(HashPoolBusyError):
            await pool.run(lambda: "turned away")
        assert time.monotonic() - started < 0.05
        release.set()
        assert await running is True
        assert await queued == "queued"
        assert await pool.run(lambda: "room again") == "room again"
    finally:
        release.set()
        pool.close()


async def test_queued_work_gives_up_its_place_after_the_longest_wait() -> None:
    release = threading.Event()
    pool = HashPool(threads=1, queue=4, max_wait=0.2)
    try:
        running = asyncio.create_task(pool.run(release.wait))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(HashPoolBusyError):
            await pool.run(lambda: "never runs")
        assert 0.09 < time.monotonic() - started < 1.0
        release.set()
        assert await running is True
    finally:
        release.set()
        pool.close()


def test_an_unknown_email_costs_a_full_hash_and_never_matches() -> None:
    stored = password_hash("right")

    started = time.perf_counter()
    assert not check_password("right", None)
    unknown = time.perf_counter() - started
    started = time.perf_counter()
    assert not check_password("wrong", stored)
    known = time.perf_counter() - started

    assert check_password("right", stored)
    assert not check_password("right", "")
    assert unknown > known / 3  # the same scrypt cost, within the machine's noise
