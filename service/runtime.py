"""One API or projections process at run time: read models kept or awaited, jobs run."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import structlog
from eventsourcing.persistence import IntegrityError, Tracking

from projections.batch_jobs.projection import BatchJobsProjection
from projections.runner import CatchUpRunner
from service import parked, positions
from service.bootstrap.process import Bootstrap
from service.pg_listener import NotificationListener
from service.pg_probe import postgres_down
from service.ports import ApiRuntime
from service.processing import processor
from service.processing.reaper import StuckJobReaper
from service.read_model_lag import ReadModelLagError
from service.settings import nats_servers
from service.strategies.limits import TypeLimits, parse_limits

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import TrackingRecorder

    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry

log = structlog.get_logger("runtime")
REMOTE_POLL_SECONDS = 0.005


class Runtime(ApiRuntime):
    """One process's Jobstream: API state, projection runner and job processor."""

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
        self.view = parts.jobs_view
        self.logins = parts.logins
        self.sessions = parts.sessions
        self.projection = self._build_projection_runner()
        self.processor = processor.BatchJobProcessor(
            app=self.app,
            registry=self.registry,
            position=parts.processor_position,
            threads=self.settings.processor_threads,
            max_attempts=self.settings.max_processing_attempts,
            lease_seconds=self.settings.lease_seconds,
            limits=TypeLimits(parse_limits(self.settings.type_concurrency)),
        )
        self.processing = self._build_processing_runner()
        self.reaper = StuckJobReaper(
            self.app, self.view, stuck_after=self.settings.stuck_job_seconds
        )
        # False when NATS workers run the jobs (`jobstream api`, and tests of workers).
        self.process_jobs = process_jobs
        # False when `jobstream projections` runs the projection in another process.
        self.project = parts.project
        self.catalog_reads = parts.catalog_reads
        self.catalog = parts.catalog
        self._listener: NotificationListener | None = None

    def _build_projection_runner(self) -> CatchUpRunner:
        return CatchUpRunner(
            name="projection.batchjobs",
            recorder=self.app.recorder,
            mapper=self.app.mapper,
            topics=BatchJobsProjection.topics,
            start_position=lambda: self.view.max_tracking_id(self.app.name),
            handler=BatchJobsProjection(self.view, self.app.name),
            on_error=_log_runner_error,
            on_skip=self._record_skip,
            on_poison=parked.parker(BatchJobsProjection.name, self.view, self.app.name),
        )

    def _record_skip(self, position: int) -> None:
        with contextlib.suppress(IntegrityError):  # recorded further already
            self.view.insert_tracking(Tracking(self.app.name, position))

    def _build_processing_runner(self) -> CatchUpRunner:
        return CatchUpRunner(
            name="processor",
            recorder=self.app.recorder,
            mapper=self.app.mapper,
            topics=processor.TOPICS,
            start_position=self.processor.start_position,
            handler=self.processor,
            on_error=_log_runner_error,
        )

    def start(self) -> None:
        wanted = ((self.projection, self.project), (self.processing, self.process_jobs))
        for runner in [runner for runner, wanted_here in wanted if wanted_here]:
            self.app.save_listeners.append(runner.wake_for)
            runner.start()
        if self.process_jobs or self.project:
            # Where jobs run or the read model is kept, lapsed leases are looked for:
            # the projections process reaps even when every worker is gone.
            self.reaper.start()
        self.catalog_reads.start()
        if self.settings.database_url is not None:
            channel = getattr(self.app.recorder, "channel_name", "jobstream_events")
            self._listener = NotificationListener(
                self.settings.database_url, channel, self._wake_runners
            )
            self._listener.start()
        log.info("runtime.started", batch_types=self.registry.batch_types)

    def _wake_runners(self, topics: Sequence[str] | None) -> None:
        """Another process saved events of `topics` (None: unknown, wake them all)."""
        for runner in (self.projection, self.processing, self.catalog_reads.runner):
            if topics is None:
                runner.wake()
            else:
                runner.wake_for(topics)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.reaper.stop()
        self.processing.stop()
        self.processor.shutdown()
        self.projection.stop()
        self.parts.close()  # the catalog's runner, the stores and the application
        log.info("runtime.stopped")

    def wait_for_read_model(self, position: int) -> None:
        """Return once GET/list would show the write at `position`; else raise."""
        if not self._wait_for_projection(position):
            raise ReadModelLagError(position)

    def _wait_for_projection(self, position: int) -> bool:
        timeout = self.settings.read_your_writes_timeout
        if self.project:
            return self.projection.wait_for(position, timeout)
        # The projection runs in another process: watch its recorded position.
        deadline = time.monotonic() + timeout
        while (self.view.max_tracking_id(self.app.name) or 0) < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(REMOTE_POLL_SECONDS)
        return True

    def catch_up_read_model(self) -> None:
        """Before a read: the view reflects every event stored when the request began."""
        self.wait_for_read_model(self.app.recorder.max_notification_id() or 0)

    def settle(self, position: int) -> None:
        """After a write: wait so the caller's next read shows it.

        The write is durable either way; a lagging view only delays the answer.
        """
        if not self._wait_for_projection(position):
            log.warning("runtime.read_model_lag", position=position)

    def health(self) -> dict[str, str]:
        """Each dependency's state: "ok", or why not."""
        checks: dict[str, str] = {}
        probes = {
            "event_store": self.app.recorder.max_notification_id,
            "read_model": lambda: self.view.max_tracking_id(self.app.name),
            "catalog": lambda: self.catalog_reads.view.max_tracking_id(self.app.name),
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
        for runner, wanted in (
            (self.projection, self.project),
            (self.catalog_reads.runner, self.project),
            (self.processing, self.process_jobs),
        ):
            if wanted:
                checks[runner.name] = runner.state
        return checks

    def details(self) -> dict[str, object]:
        """Health, the log's head, and how far each reader of it is behind."""
        checks = self.health()
        if checks.get("event_store") != "ok":  # no head or lag to read
            return {"status": "unavailable", "checks": checks}
        head = self.app.recorder.max_notification_id() or 0
        projected = positions.recorded(self.view, self.app.name)
        report: dict[str, object] = {
            "status": "ok"
            if all(v == "ok" for v in checks.values())
            else "unavailable",
            "checks": checks,
            "event_store_head": head,
            "projection_position": projected,
            "projection_lag": positions.lag(head, projected),
        }
        catalog = positions.recorded(self.catalog_reads.view, self.app.name)
        report["catalog_position"] = catalog
        report["catalog_lag"] = positions.lag(head, catalog)
        report.update(parked.details(self._read_models()))
        if self.settings.nats_url is not None:
            # Reported, not required: the outbox keeps the work while NATS is away.
            relayed = positions.recorded(self._relay_tracking(), self.app.name)
            report["nats"] = positions.nats_state(nats_servers(self.settings.nats_url))
            report["relay_position"] = relayed
            report["relay_lag"] = positions.lag(head, relayed)
        return report

    def _read_models(self) -> dict[str, tuple[object, CatchUpRunner | None]]:
        """Each read model's view, and its runner where this process runs it."""
        catalog = self.catalog_reads
        return {
            BatchJobsProjection.name: (
                self.view,
                self.projection if self.project else None,
            ),
            catalog.NAME: (catalog.view, catalog.runner if self.project else None),
        }

    def _relay_tracking(self) -> TrackingRecorder:
        return self.parts.relay_position


def _log_runner_error(name: str, error: BaseException) -> None:
    log.warning("runner.error", runner=name, error=repr(error))
