"""What counting an HTTP request costs: `record_request` beside a no-op, per call.

The front door (service/http/front_door.py) calls `record_request(method, route,
status, seconds)` once per request. This times N calls of it, on the label set a GET
by id has, next to N calls of a function that does nothing with the same arguments,
in this process's memory mode and in the multiprocess mode `serve`, `api` and
`worker` use (values in memory-mapped files under a temporary directory). The
difference per call is what a request pays for the metric.

Run: `.venv/bin/python bench/metrics_overhead.py [--calls N]`. It starts no server.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from service.metrics import instruments, multiprocess

ROUTE = "/admin/batch-jobs/{job_id}"


def noop(*_: object) -> None:
    """The baseline: a call with the same arguments that does nothing."""


def per_call(record: Callable[[str, str, int, float], None], calls: int) -> float:
    """Seconds per call, the best of three runs (the least disturbed)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            record("GET", ROUTE, 200, 0.0004)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def report(mode: str, calls: int) -> None:
    baseline = per_call(noop, calls)
    recorded = per_call(instruments.record_request, calls)
    cost = recorded - baseline
    print(
        f"{mode:<13} no-op {baseline * 1e9:7.0f} ns   record_request "
        f"{recorded * 1e9:7.0f} ns   cost {cost * 1e9:7.0f} ns/request "
        f"({cost * 8000 * 100:.2f} % of a core at 8,000 req/s)"
    )


async def on_a_loop(mode: str, calls: int) -> None:
    """As the front door calls it: on the event loop (the flush is scheduled there)."""
    report(mode, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    asyncio.run(on_a_loop("in memory", args.calls))
    with tempfile.TemporaryDirectory() as directory:
        multiprocess.enable(Path(directory), clean=True)
        asyncio.run(on_a_loop("multiprocess", args.calls))
        started = time.perf_counter()
        instruments.HTTP_REQUESTS.flush()
        print(
            f"one flush (once a second at most): {(time.perf_counter() - started) * 1e6:.0f} µs"
        )


if __name__ == "__main__":
    main()
