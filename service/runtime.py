"""Builds the running system from Settings: event store, read models, processing, auth."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import structlog

from projections.read_models.known import BATCH_JOBS, CATALOG
from service import data_dir, positions
from service.application import Jobstream
from service.auth.logins import LoginGuard
from service.auth.sessions import PostgresSessionStore, SessionStore, SQLiteSessionStore
from service.catalog.commands import Catalog
from service.engine.embedded import embedded_engine
from service.files.backends import build_file_storage
from service.pg_probe import postgres_down
from service.ports import ApiRuntime, ReadModelLagError, Secrets
from service.processing.reaper import StuckJobReaper
from service.read_models.host import ReadModelHost
from service.settings import Settings, nats_servers, storage_env
from service.settings_checks import MIN_SECRET_BYTES
from service.stores import infrastructure, pool_env, schema_lock
from service.strategies.registry import StrategyRegistry, StrategyServices

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder

    from projections.batch_jobs.view import BatchJobsView
    from projections.read_models.definition import Backend
    from service.catalog.readmodel import CatalogReadModel

__all__ = [
    "Runtime", "build_app", "build_view", "infrastructure", "pool_env", "read_model_host",
    "schema_lock",
]  # fmt: skip
log = structlog.get_logger("runtime")


def build_app(settings: Settings) -> Jobstream:
    with schema_lock(settings):
        return Jobstream(env={**storage_env(settings, "events"), **pool_env(8)})


def build_view(
    settings: Settings, factory: InfrastructureFactory[Any], *, owner: bool
) -> BatchJobsView:
    """The batch-jobs view alone (the reaper of a worker); its `owner` rebuilds it."""
    backend: Backend = "postgres" if settings.is_postgres else "sqlite"
    with schema_lock(settings):
        view: BatchJobsView = factory.tracking_recorder(BATCH_JOBS.view_class(backend))
        if owner and view.rebuild_if_outdated():
            log.warning("runtime.read_model_rebuilding", reason="columns changed")
    return view


def read_model_host(
    settings: Settings, app: Jobstream, *, project: bool, pool_size: int = 4
) -> ReadModelHost:
    """Every read model, kept here (`project`) or read as another process keeps it."""
    return ReadModelHost(settings, app, project=project, pool_size=pool_size)


def resolve_secrets(settings: Settings) -> Secrets:
    """Env first; embedded mode keeps generated ones under the data dir across restarts."""
    for name, value in (
        ("JWT", settings.jwt_secret),
        ("COOKIE", settings.cookie_secret),
    ):
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JOBSTREAM_{name}_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(HMAC-SHA256 keys shorter than the hash are guessable)"
            )
    if settings.jwt_secret and settings.cookie_secret:
        return Secrets(settings.jwt_secret, settings.cookie_secret)
    if settings.is_postgres:
        raise ValueError(
            "Set JOBSTREAM_JWT_SECRET and JOBSTREAM_COOKIE_SECRET: every process "
            "sharing the database must sign and verify with the same secrets."
        )
    path = settings.data_path / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = {
        key: secrets.token_urlsafe(32)
        for key in ("jwt_secret", "cookie_secret")
        if key not in stored
    }
    if generated:
        data_dir.prepare(settings.data_path)
        data_dir.write_private(path, json.dumps({**stored, **generated}))
        stored = {**stored, **generated}
    return Secrets(
        settings.jwt_secret or stored["jwt_secret"],
        settings.cookie_secret or stored["cookie_secret"],
    )


class Runtime(ApiRuntime):
    """One process's Jobstream: API state, read models and job processor."""

    def __init__(
        self,
        settings: Settings,
        registry: StrategyRegistry | None = None,
        *,
        process_jobs: bool = True,
        project: bool = True,
    ) -> None:
        self.settings = settings
        self.secrets = resolve_secrets(settings)
        self.app = build_app(settings)
        self.files = build_file_storage(settings)
        if registry is None:
            registry = StrategyRegistry()
            services = StrategyServices(
                self.app, settings, self.files, lambda: self.catalog_reads
            )
            registry.load_entry_points(services)
        self.registry = registry
        # False when `jobstream projections` keeps the read models in another process.
        self.project = project
        self.read_models = read_model_host(settings, self.app, project=project)
        jobs, catalog = (
            self.read_models[BATCH_JOBS.name],
            self.read_models[CATALOG.name],
        )
        self.view: BatchJobsView = jobs.view
        self.projection = jobs.runner
        self.catalog_reads: CatalogReadModel = catalog
        # Each factory owns a connection pool; stop() closes them all.
        self._processor_factory = infrastructure(settings, "processor", pool_size=1)
        self.logins = LoginGuard(settings)
        with schema_lock(settings):
            self.sessions = self._build_sessions()
            processor_position = self._processor_factory.tracking_recorder()
        # The job engine over the event store (what `serve` runs without NATS).
        self.processing = embedded_engine(
            settings, self.app, registry, processor_position
        )
        self.reaper = StuckJobReaper(
            self.app, self.view, stuck_after=settings.stuck_job_seconds
        )
        # False when NATS workers run the jobs (`jobstream api`, and tests of workers).
        self.process_jobs = process_jobs
        self.catalog = Catalog(self.app)
        self._relay_factory: InfrastructureFactory[Any] | None = None
        self._relay_position: TrackingRecorder | None = None

    def _build_sessions(self) -> SessionStore:
        ttl = self.settings.session_ttl_seconds
        if self.settings.database_url is not None:
            return PostgresSessionStore(self.settings.database_url, ttl)
        return SQLiteSessionStore(self.settings.data_path / "sessions.sqlite", ttl)

    def start(self) -> None:
        if self.process_jobs:
            self.app.save_listeners.append(self.processing.wake_for)
            self.processing.start()
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
        self.reaper.stop()
        self.processing.stop()
        self.read_models.stop()
        self.sessions.close()
        self.logins.close()
        self.files.close()
        self._processor_factory.close()
        if self._relay_factory is not None:
            self._relay_factory.close()
        self.app.close()
        log.info("runtime.stopped")

    def wait_for_read_model(self, position: int) -> None:
        """Return once GET/list would show the write at `position`; else raise."""
        if not self.read_models[BATCH_JOBS.name].wait_for(position):
            raise ReadModelLagError(position)

    def catch_up_read_model(self) -> None:
        """Before a read: the view reflects every event stored when the request began."""
        self.read_models[BATCH_JOBS.name].catch_up()

    def settle(self, position: int) -> None:
        """After a write: wait so the caller's next read of batch jobs shows it."""
        self.read_models[BATCH_JOBS.name].settle(position)

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

    def _relay_tracking(self) -> TrackingRecorder:
        if self._relay_position is None:
            stream = self.settings.nats_stream.lower()
            self._relay_factory = infrastructure(self.settings, f"relay_{stream}", 1)
            with schema_lock(self.settings):
                self._relay_position = self._relay_factory.tracking_recorder()
        return self._relay_position


def _log_runner_error(name: str, error: BaseException) -> None:
    log.warning("runner.error", runner=name, error=repr(error))
