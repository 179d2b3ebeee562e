"""The per-process instruments: HTTP requests, step durations, rows exported/imported.

They live in a registry of their own (not prometheus_client's global one, which
adds process and GC collectors nobody asked for). With several processes on one
data directory (`serve --workers N`, a `worker` beside them) they are written to
memory-mapped files instead (`service.metrics.multiprocess`), so a scrape of any
HTTP process sums every process's observations. Every instrument has labels: a
labelled metric creates its values on first use, after the process chose its mode.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics import Histogram as HistogramChild

REGISTRY = CollectorRegistry(auto_describe=False)

HTTP_REQUEST_DURATION = Histogram(
    "jobstream_http_request_duration_seconds",
    "HTTP requests by method, route template and status code, and how long each took.",
    ["method", "route", "status"],
    buckets=(
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
        10.0,
    ),
    registry=REGISTRY,
)
STEP_DURATION = Histogram(
    "jobstream_step_duration_seconds",
    "How long a job's strategy ran, by batch type and step (pre_process, process).",
    ["type", "step"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)
ROWS_EXPORTED = Counter(
    "jobstream_rows_exported",
    "CSV rows written by exports, by batch type.",
    ["type"],
    registry=REGISTRY,
)
ROWS_IMPORTED = Counter(
    "jobstream_rows_imported",
    "CSV rows applied to the catalog by imports, by batch type.",
    ["type"],
    registry=REGISTRY,
)

# A request's labels seen before: `labels()` validates and locks on every call, a
# dict lookup does not. Routes and statuses are few, so the dict stays small; an
# unmatched path has no template and is counted under one route, "unmatched".
_http_children: dict[tuple[str, str, int], HistogramChild] = {}


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one HTTP request (called once per request by the front door)."""
    key = (method, route, status)
    child = _http_children.get(key)
    if child is None:
        child = HTTP_REQUEST_DURATION.labels(method, route, str(status))
        _http_children[key] = child
    child.observe(seconds)


def forget_children() -> None:
    """Drop the cached label children (after the value class changed, in tests)."""
    _http_children.clear()


@contextlib.contextmanager
def timed(batch_type: str, step: str) -> Iterator[None]:
    """Observe how long the block (a strategy's step) ran, however it ended."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STEP_DURATION.labels(batch_type, step).observe(time.perf_counter() - started)
