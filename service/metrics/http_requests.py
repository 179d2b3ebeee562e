"""HTTP requests by method, route template and status: a histogram that costs a dict hit.

prometheus_client's `Histogram.observe` takes two locks and walks the buckets in
Python; on the hot path of GET /admin/batch-jobs/:id that is most of what the metric
would cost. The front door records on the event loop's thread only, so here a
request is one dict lookup, one `bisect` and two list increments, no lock
(bench/metrics_overhead.py measures it). A scrape reads the rows (a list copy of a
dict is atomic under the GIL).

In multiprocess mode (`service.metrics.multiprocess`) other processes cannot read
this memory: the counts are added to prometheus_client's histogram (its memory-mapped
files) at most a second after they happen, by a callback on the same event loop, so
nothing else ever touches the rows. That path uses the histogram child's bucket and
sum values (`_buckets`, `_sum`, what `observe` increments), so a whole second's counts
cost one increment each.
"""

from __future__ import annotations

import asyncio
import bisect
from typing import TYPE_CHECKING

from prometheus_client import Histogram
from prometheus_client.core import HistogramMetricFamily

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

NAME = "jobstream_http_request_duration_seconds"
HELP = (
    "HTTP requests by method, route template and status code, and how long each took."
)
LABELS = ("method", "route", "status")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0

Key = tuple[str, str, int]


class HttpRequests:
    """Counts per (method, route, status): a bucket each (the last is +Inf), then the sum."""

    def __init__(self) -> None:
        self._bounds = BUCKETS
        # Memory mode: every count; multiprocess mode: those not yet flushed.
        self._rows: dict[Key, list[float]] = {}
        self._shared: Histogram | None = None
        self._flush_due = False

    def share(self) -> None:
        """From now on, add the counts to prometheus_client's (multiprocess) histogram.

        Its values are in the files a MultiProcessCollector reads: no registry.
        """
        self._rows = {}
        if self._shared is None:
            self._shared = Histogram(NAME, HELP, LABELS, buckets=BUCKETS, registry=None)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = [0.0] * (len(self._bounds) + 2)
        row[bisect.bisect_left(self._bounds, seconds)] += 1
        row[-1] += seconds
        if self._shared is not None and not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Add what was counted since the last flush to the shared histogram."""
        self._flush_due = False
        shared = self._shared
        if shared is None:
            return
        rows, self._rows = self._rows, {}
        for (method, route, status), row in rows.items():
            child = shared.labels(method, route, str(status))
            for index, count in enumerate(row[:-1]):
                if count:
                    child._buckets[index].inc(count)  # noqa: SLF001 - see the docstring
            child._sum.inc(row[-1])  # noqa: SLF001

    def collect(self) -> Iterator[Metric]:
        """The counts of this process (memory mode; the shared histogram reports itself)."""
        if self._shared is not None:
            return
        family = HistogramMetricFamily(NAME, HELP, labels=LABELS)
        # `le` as prometheus_client writes it: "0.001", "1.0", "+Inf".
        les = [repr(float(bound)) for bound in self._bounds] + ["+Inf"]
        for (method, route, status), row in list(self._rows.items()):
            cumulative, buckets = 0.0, []
            for le, count in zip(les, row[:-1], strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric([method, route, str(status)], buckets, row[-1])
        yield family
