"""GET /metrics' text: the per-process instruments, and figures read from the stores.

Job counts come from the batch-jobs read model at scrape time, not from counters
kept in memory: every job is counted once whichever process created or ran it, and
the counts survive restarts. `jobstream_jobs_created_total` counts every job (all
of them were created), `jobstream_jobs_finished_total` those in a final status.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from domain.batch_jobs import FINAL_STATUSES, BatchJobStatus
from service.metrics.multiprocess import ProcessInstruments

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from service.api_services.system_report import ReadModelInfo, RelayInfo, WorkerInfo
    from service.metrics.nats_pending import NatsPending
    from service.settings import Settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Figures(Protocol):
    """What a scrape reads from the stores (the system service gives it)."""

    @property
    def settings(self) -> Settings: ...

    def job_counts(self) -> list[tuple[str, str, int]]: ...

    def workers(self, now: datetime) -> list[WorkerInfo]: ...

    def read_models(self) -> list[ReadModelInfo]: ...

    def relay(self, head: int | None = None) -> RelayInfo | None: ...

    def nats_pending(self) -> NatsPending | None: ...


class StoreFigures:
    """A collector of what the stores say when scraped (exact across processes)."""

    def __init__(self, system: Figures) -> None:
        self._system = system

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs()
        yield from self._workers()
        yield from self._lag()
        yield from self._nats()

    def _jobs(self) -> Iterator[Metric]:
        created = CounterMetricFamily(
            "jobstream_jobs_created", "Batch jobs created, by type.", labels=["type"]
        )
        finished = CounterMetricFamily(
            "jobstream_jobs_finished",
            "Batch jobs that ended, by type and final status.",
            labels=["type", "status"],
        )
        in_status = GaugeMetricFamily(
            "jobstream_jobs", "Batch jobs in each status now.", labels=["status"]
        )
        by_type: dict[str, int] = {}
        by_status = dict.fromkeys((s.value for s in BatchJobStatus), 0)
        finals = {s.value for s in FINAL_STATUSES}
        for batch_type, status, n in self._system.job_counts():
            by_type[batch_type] = by_type.get(batch_type, 0) + n
            by_status[status] = by_status.get(status, 0) + n
            if status in finals:
                finished.add_metric([batch_type, status], n)
        for batch_type, n in sorted(by_type.items()):
            created.add_metric([batch_type], n)
        for status, n in by_status.items():
            in_status.add_metric([status], n)
        yield from (created, finished, in_status)

    def _workers(self) -> Iterator[Metric]:
        in_flight = GaugeMetricFamily(
            "jobstream_worker_in_flight",
            "Job steps each worker runs now, from its last heartbeat.",
            labels=["worker"],
        )
        up = GaugeMetricFamily(
            "jobstream_worker_up",
            "1 if the worker's heartbeat is recent, else 0 (kept for an hour).",
            labels=["worker"],
        )
        for worker in self._system.workers(datetime.now(UTC)):
            in_flight.add_metric([worker.id], worker.in_flight)
            up.add_metric([worker.id], 1 if worker.alive else 0)
        yield from (in_flight, up)

    def _lag(self) -> Iterator[Metric]:
        models = self._system.read_models()
        head = GaugeMetricFamily(
            "jobstream_event_store_head", "The event store's last notification id."
        )
        lag = GaugeMetricFamily(
            "jobstream_read_model_lag",
            "Events stored and not yet folded into each read model.",
            labels=["read_model"],
        )
        for model in models:
            lag.add_metric([model.name], model.lag)
        if models:
            head.add_metric([], models[0].head)
        yield from (head, lag)
        relay = self._system.relay(models[0].head if models else None)
        if relay is not None:
            yield GaugeMetricFamily(
                "jobstream_relay_lag",
                "Events stored and not yet published to the JetStream stream.",
                value=relay.lag,
            )

    def _nats(self) -> Iterator[Metric]:
        if self._system.settings.nats_url is None:
            return
        pending = self._system.nats_pending()
        yield GaugeMetricFamily(
            "jobstream_nats_up",
            "1 if JetStream answered this scrape's questions in time, else 0.",
            value=0 if pending is None else 1,
        )
        if pending is None:
            return  # absent rather than made up
        yield GaugeMetricFamily(
            "jobstream_nats_stream_messages",
            "Messages the event stream holds.",
            value=pending.stream_messages,
        )
        waiting = GaugeMetricFamily(
            "jobstream_nats_consumer_pending",
            "Messages a worker consumer has not yet delivered.",
            labels=["consumer"],
        )
        unacked = GaugeMetricFamily(
            "jobstream_nats_consumer_ack_pending",
            "Messages a worker consumer delivered and no worker acknowledged yet.",
            labels=["consumer"],
        )
        for consumer in pending.consumers:
            waiting.add_metric([consumer.name], consumer.pending)
            unacked.add_metric([consumer.name], consumer.ack_pending)
        yield from (waiting, unacked)


class Scraper:
    """The process's /metrics text; its registry is built on the first scrape."""

    def __init__(self, system: Figures) -> None:
        self._system = system
        self._registry: CollectorRegistry | None = None
        self._lock = threading.Lock()

    def text(self) -> bytes:
        with self._lock:
            if self._registry is None:
                registry = CollectorRegistry(auto_describe=False)
                registry.register(ProcessInstruments())
                registry.register(StoreFigures(self._system))
                self._registry = registry
        return generate_latest(self._registry)
