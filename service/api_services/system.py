"""What the system page and /metrics read: workers, relay, read models, throughput, NATS.

Every figure is read from the stores when asked (the batch-jobs read model, the
worker registry, the relay's lease and position, JetStream), so any HTTP process of
a deployment answers the same, whichever process did the work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from service import positions
from service.api_services.system_report import (
    MinuteCounts,
    NatsInfo,
    ReadModelInfo,
    RelayInfo,
    SystemReport,
    WorkerInfo,
)
from service.engine.heartbeat import ALIVE_SECONDS
from service.metrics.nats_pending import NatsPending, NatsPendingProbe
from service.metrics.relay_leader import relay_leader
from service.metrics.scrape import Scraper

if TYPE_CHECKING:
    from collections.abc import Callable

    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.read_models.host import ReadModelHost
    from service.settings import Settings
    from service.worker_registry import WorkerRegistry

MINUTES = 60  # the throughput chart's window: the last hour, a point a minute

__all__ = ["System", "SystemReport", "SystemService"]


class SystemService(ABC):  # an ABC: see BatchJobsService
    settings: Settings

    @abstractmethod
    def report(self, caller_id: str) -> SystemReport:
        """The state now; the caller's own writes are in its job counts."""

    @abstractmethod
    def workers(self, now: datetime) -> list[WorkerInfo]: ...

    @abstractmethod
    def read_models(self) -> list[ReadModelInfo]: ...

    @abstractmethod
    def relay(self, head: int | None = None) -> RelayInfo | None: ...

    @abstractmethod
    def nats_pending(self) -> NatsPending | None:
        """None where NATS is not configured or did not answer in time."""

    @abstractmethod
    def job_counts(self) -> list[tuple[str, str, int]]:
        """(type, status, jobs) from the batch-jobs read model."""

    @abstractmethod
    def metrics_text(self) -> bytes:
        """The Prometheus text exposition of every metric."""


class System(SystemService):
    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        settings: Settings,
        app: Jobstream,
        view: BatchJobsView,
        read_models: ReadModelHost,
        workers: Callable[[], WorkerRegistry],
        relay_position: Callable[[], int | None],
        catch_up: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self._catch_up = catch_up
        self._app = app
        self._view = view
        self._read_models = read_models
        self._workers = workers
        self._relay_position = relay_position
        self._nats = None if settings.nats_url is None else NatsPendingProbe(settings)
        self._scraper = Scraper(self)

    def report(self, caller_id: str) -> SystemReport:
        self._catch_up(caller_id)  # an operator who just canceled sees it counted
        now = datetime.now(UTC)
        models = self.read_models()
        head = models[0].head if models else self._head()
        pending = self.nats_pending()
        nats = None
        if self._nats is not None:
            nats = NatsInfo(
                stream_pending=None if pending is None else pending.stream_messages,
                consumer_pending=None if pending is None else pending.consumer_pending,
            )
        return SystemReport(
            workers=self.workers(now),
            relay=self.relay(head),
            read_models=models,
            throughput=self.throughput(now),
            nats=nats,
            now=now,
        )

    def workers(self, now: datetime) -> list[WorkerInfo]:
        alive_since = now - timedelta(seconds=ALIVE_SECONDS)
        return [
            WorkerInfo(
                id=entry.id,
                host=entry.host,
                pid=entry.pid,
                started_at=entry.started_at,
                last_seen=entry.last_seen,
                in_flight=entry.in_flight,
                alive=entry.last_seen >= alive_since,
            )
            for entry in self._workers().workers()
        ]

    def read_models(self) -> list[ReadModelInfo]:
        head = self._head()
        infos = []
        for model in self._read_models:
            position = model.recorded()
            lag = positions.lag(head, position)
            infos.append(
                ReadModelInfo(name=model.name, position=position, head=head, lag=lag)
            )
        return infos

    def relay(self, head: int | None = None) -> RelayInfo | None:
        position = self._relay_position()
        if position is None:
            return None  # no NATS: nothing is relayed
        head = self._head() if head is None else head
        return RelayInfo(
            leader=relay_leader(self.settings), lag=positions.lag(head, position)
        )

    def throughput(self, now: datetime) -> list[MinuteCounts]:
        last = now.replace(second=0, microsecond=0)
        minutes = [last - timedelta(minutes=n) for n in range(MINUTES - 1, -1, -1)]
        counts: dict[str, dict[str, int]] = {}
        for minute, kind, n in self._view.changes_per_minute(minutes[0]):
            counts.setdefault(minute, {})[kind] = n
        return [
            MinuteCounts(minute=m, **counts.get(m.strftime("%Y-%m-%dT%H:%M"), {}))
            for m in minutes
        ]

    def nats_pending(self) -> NatsPending | None:
        return None if self._nats is None else self._nats.pending()

    def job_counts(self) -> list[tuple[str, str, int]]:
        return self._view.counts_by_type_and_status()

    def metrics_text(self) -> bytes:
        return self._scraper.text()

    def _head(self) -> int:
        return self._app.recorder.max_notification_id() or 0
