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

from service.metrics.http_requests import HttpRequests

if TYPE_CHECKING:
    from collections.abc import Iterator

REGISTRY = CollectorRegistry(auto_describe=False)

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

# Recorded by the front door on every request: a histogram of its own (see there).
HTTP_REQUESTS = HttpRequests()
REGISTRY.register(HTTP_REQUESTS)
record_request = HTTP_REQUESTS.record


@contextlib.contextmanager
def timed(batch_type: str, step: str) -> Iterator[None]:
    """Observe how long the block (a strategy's step) ran, however it ended."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STEP_DURATION.labels(batch_type, step).observe(time.perf_counter() - started)
