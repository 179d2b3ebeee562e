"""One API or projections process at run time: read models kept or awaited, jobs run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from projections.read_models.known import BATCH_JOBS
from service import positions
from service.bootstrap.process import Bootstrap
from service.engine.embedded import embedded_engine
from service.engine.heartbeat import Heartbeat
from service.files.retention import sweeper_for
from service.pg_probe import postgres_down
from service.ports import ApiRuntime
from service.processing.reaper import StuckJobReaper
from service.read_model_lag import ReadModelLagError
from service.settings import nats_servers

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import TrackingRecorder

    from projections.batch_jobs.view import BatchJobsView
    from service.catalog.readmodel import CatalogReadModel
    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry
    from service.worker_registry import WorkerRegistry

log = structlog.get_logger("runtime")


class Runtime(ApiRuntime):
    """One process's Jobstream: API state, read models and job processor."""

    def __init__(
        self,
        settings: Settings,
        registry: StrategyRegistry | None = None,
        *,
        process_jobs: bool = True,
        project: bool = True,
        bootstrap: Bootstrap | None = None,
    ) -> None:
        """The runtime over `bootstrap`'s parts (else over parts of its own).

        With `bootstrap`, its settings, registry and `project` are the ones used.
        `stop()` closes the bootstrap: the runtime is the last of a process to stop.
        """
        parts = bootstrap or Bootstrap(settings, registry=registry, project=project)
        self.parts = parts
        self.settings = parts.settings
        self.secrets = parts.secrets
        self.app = parts.app
        self.files = parts.files
        self.registry = parts.registry
        # False when `jobstream projections` keeps the read models in another process.
        self.project = parts.project
        self.read_models = parts.read_models
        self.view: BatchJobsView = parts.jobs_view
        self.projection = self.read_models[BATCH_JOBS.name].runner
        self.catalog_reads: CatalogReadModel = parts.catalog_reads
        self.catalog = parts.catalog
        self.logins = parts.logins
        self.sessions = parts.sessions
        # The job engine over the event store (what `serve` runs without NATS).
        self.processing = embedded_engine(
            self.settings, self.app, self.registry, parts.processor_position
        )
        self.reaper = StuckJobReaper(
            self.app, self.view, stuck_after=self.settings.stuck_job_seconds
        )
        # False when NATS workers run the jobs (`jobstream api`, and tests of workers).
        self.process_jobs = process_jobs
        # Where jobs run, old files go (service.files.retention).
        self.sweeper = sweeper_for(
            self.settings,
            self.files,
            self.app,
            self.view,
            self.read_models[BATCH_JOBS.name].catch_up,
        )
        self.heartbeat: Heartbeat | None = None

    def start(self) -> None:
        if self.process_jobs:
            self.app.save_listeners.append(self.processing.wake_for)
            self.processing.start()
            self.sweeper.start()
            self.heartbeat = Heartbeat(
                self.parts.workers,
                self.processing.steps.actor,
                lambda: self.processing.in_flight,
            )
            self.heartbeat.start()
        # Another process's save (PostgreSQL NOTIFY) wakes the processor too.
        self.read_models.also_wake.append(self._wake_processing)
        self.read_models.start()
        if self.process_jobs or self.project:
            # Where jobs run or the read model is kept, lapsed leases are looked for:
            # the projections process reaps even when every worker is gone.
            self.reaper.start()
        log.info("runtime.started", batch_types=self.registry.batch_types)

    def _wake_processing(self, topics: Sequence[str] | None) -> None:
        if topics is None:
            self.processing.wake()
        else:
            self.processing.wake_for(topics)

    def stop(self) -> None:
        self.sweeper.stop()
        self.reaper.stop()
        self.processing.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        self.parts.close()  # the read models, the stores and the application
        log.info("runtime.stopped")

    def wait_for_read_model(self, position: int) -> None:
        """Return once GET/list would show the write at `position`; else raise."""
        if not self.read_models[BATCH_JOBS.name].wait_for(position):
            raise ReadModelLagError(position)

    def catch_up_read_model(
        self, caller_id: str | None = None, *, everything: bool = False
    ) -> None:
        """Before a read: the view reflects every event stored when the request began.

        With `caller_id`: every write of that caller's, or with `everything` both
        (HostedReadModel.catch_up).
        """
        self.read_models[BATCH_JOBS.name].catch_up(caller_id, everything=everything)

    def settle(self, position: int, caller_id: str | None = None) -> None:
        """After a write: the caller's next read of batch jobs shows it."""
        self.read_models[BATCH_JOBS.name].settle(position, caller_id)

    async def settle_async(self, position: int, caller_id: str | None = None) -> None:
        """`settle` from the event loop (HostedReadModel.settle_async)."""
        await self.read_models[BATCH_JOBS.name].settle_async(position, caller_id)

    def health(self) -> dict[str, str]:
        """Each dependency's state: "ok", or why not."""
        checks: dict[str, str] = {}
        probes: dict[str, Callable[[], object]] = {
            "event_store": self.app.recorder.max_notification_id,
            **self.read_models.probes(),
            "sessions": self.sessions.ping,
        }
        # PostgreSQL away: every store is down, said at once (the pools would hang).
        unreachable = (
            postgres_down(self.settings.database_url)
            if self.settings.database_url is not None
            else None
        )
        for name, probe in probes.items():
            if unreachable is not None:
                checks[name] = unreachable
                continue
            try:
                probe()
                checks[name] = "ok"
            except Exception as error:  # noqa: BLE001 - any failure means "down"
                checks[name] = f"down: {error}"
        checks.update(self.read_models.runner_states())
        if self.process_jobs:
            checks[self.processing.name] = self.processing.state
        return checks

    def details(self) -> dict[str, object]:
        """Health, the log's head, and how far each reader of it is behind."""
        checks = self.health()
        if checks.get("event_store") != "ok":  # no head or lag to read
            return {"status": "unavailable", "checks": checks}
        head = self.app.recorder.max_notification_id() or 0
        report: dict[str, object] = {
            "status": "ok"
            if all(v == "ok" for v in checks.values())
            else "unavailable",
            "checks": checks,
            "event_store_head": head,
            **self.read_models.details(head),
        }
        if self.settings.nats_url is not None:
            # Reported, not required: the outbox keeps the work while NATS is away.
            relayed = positions.recorded(self._relay_tracking(), self.app.name)
            report["nats"] = positions.nats_state(nats_servers(self.settings.nats_url))
            report["relay_position"] = relayed
            report["relay_lag"] = positions.lag(head, relayed)
        return report

    def worker_registry(self) -> WorkerRegistry:
        return self.parts.workers

    def relay_position(self) -> int | None:
        if self.settings.nats_url is None:
            return None
        return positions.recorded(self._relay_tracking(), self.app.name)

    def _relay_tracking(self) -> TrackingRecorder:
        return self.parts.relay_position
