"""bench/soak.py's RSS arithmetic: VmRSS parsing, minutes, the growth verdict."""

from __future__ import annotations

from typing import Any

import pytest


def sample(soak: Any, at: float, *rss_kib: int) -> Any:
    return soak.RssSample(
        at=at,
        rss_kib=dict(enumerate(rss_kib, 100)),
        completed=0,
        backlog=0,
        creates=0,
        failures=0,
        skipped=0,
        server_cpu=0.0,
    )


def test_vm_rss_is_read_from_proc_status(soak: Any) -> None:
    status = (
        "Name:\tjobstream\nVmPeak:\t  300000 kB\nVmRSS:\t   95748 kB\nThreads:\t4\n"
    )
    assert soak.vm_rss_kib(status) == 95748
    assert soak.vm_rss_kib("Name:\tzombie\nState:\tZ (zombie)\n") == 0


def test_minutes_start_after_the_warm_up(soak: Any) -> None:
    assert [soak.minute_of(at, 30) for at in (0, 30, 40, 90, 100, 150)] == [
        0, 0, 1, 1, 2, 2,
    ]  # fmt: skip


def test_growth_compares_the_first_and_last_minute_after_the_warm_up(
    soak: Any,
) -> None:
    # Warm-up to 30 s (its 500 MiB are not counted), then 3 minutes, a sample a minute.
    samples = [sample(soak, at, total // 2, total // 2) for at, total in
               [(0, 500_000), (30, 100_000), (60, 110_000), (150, 115_000),
                (180, 130_000), (210, 120_000)]]  # fmt: skip
    growth = soak.rss_growth(samples, 30, 210)
    assert (growth.first_kib, growth.first_samples) == (105_000, 2)  # 30 and 60 s
    assert (growth.last_kib, growth.last_samples) == (125_000, 2)  # 180 and 210 s
    assert growth.growth == pytest.approx(20_000 / 105_000)
    assert not growth.met


def test_a_one_minute_soak_compares_its_halves(soak: Any) -> None:
    samples = [sample(soak, at, 100_000 + at) for at in range(10, 71, 10)]
    growth = soak.rss_growth(samples, 10, 70)
    assert growth.window == 30
    assert (growth.first_samples, growth.last_samples) == (3, 3)  # 10-30 and 50-70 s
    assert growth.growth == pytest.approx(100_060 / 100_020 - 1)
    assert growth.met
