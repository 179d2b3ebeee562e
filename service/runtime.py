"""Builds the running system from Settings: event store, read model, processing, auth."""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking
from eventsourcing.utils import Environment

from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.projection import BatchJobsProjection
from projections.batch_jobs.sqlite import SQLiteBatchJobsView
from projections.runner import CatchUpRunner
from projections.sqlite_reads import ThreadReads
from service import data_dir, parked, positions
from service.application import Jobstream
from service.auth.logins import LoginGuard
from service.auth.sessions import PostgresSessionStore, SessionStore, SQLiteSessionStore
from service.catalog.commands import Catalog
from service.catalog.readmodel import CatalogReadModel
from service.files.backends import build_file_storage
from service.pg_listener import NotificationListener
from service.pg_probe import postgres_down
from service.ports import ApiRuntime, ReadModelLagError, Secrets
from service.processing import processor
from service.processing.reaper import StuckJobReaper
from service.read_models import shared_positions
from service.settings import Settings, nats_servers, storage_env
from service.settings_checks import MIN_SECRET_BYTES
from service.strategies.limits import TypeLimits, parse_limits
from service.strategies.registry import StrategyRegistry, StrategyServices

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from eventsourcing.persistence import TrackingRecorder

    from projections.batch_jobs.view import BatchJobsView
    from service.read_models.shared_positions import SharedPositions

log = structlog.get_logger("runtime")
REMOTE_POLL_SECONDS = 0.005
BATCH_JOBS = "batchjobs"  # its slot in SharedPositions
HEAD_SQL = "SELECT MAX(rowid) FROM stored_events"  # as eventsourcing's SQLite recorder


def pool_env(size: int) -> dict[str, str]:
    """Up to twice `size` connections, opened as load needs them.

    Bounded, so one process stays well under PostgreSQL's 100 connections; two kept
    open, so the many processes of a deployment (and of the tests) do not hold idle
    connections they would need only under load.
    """
    kept = min(size, 2)
    return {
        "POSTGRES_POOL_SIZE": str(kept),
        "POSTGRES_MAX_OVERFLOW": str(2 * size - kept),
    }


@contextlib.contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Serialize table creation across processes starting together.

    eventsourcing creates tables and functions on start; on PostgreSQL two processes
    doing that at once fail ("tuple concurrently updated"), and on SQLite two
    recorders both record the tracking table's migration (IntegrityError).
    """
    if settings.database_url is None:
        data_dir.prepare(settings.data_path)
        with (settings.data_path / "schema.lock").open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('jobstream-schema'))")
        yield  # the lock ends with the session


def build_app(settings: Settings) -> Jobstream:
    with schema_lock(settings):
        return Jobstream(env={**storage_env(settings, "events"), **pool_env(8)})


def infrastructure(
    settings: Settings, name: str, pool_size: int
) -> InfrastructureFactory[Any]:
    """The eventsourcing factory of one store (its own SQLite file, or the database)."""
    env = {**storage_env(settings, name), **pool_env(pool_size)}
    return InfrastructureFactory.construct(Environment(name, env))


def build_view(
    settings: Settings, factory: InfrastructureFactory[Any], *, owner: bool
) -> BatchJobsView:
    """The batch-jobs view; its `owner` (the projection's process) rebuilds it."""
    view_class: type[Any] = (
        PostgresBatchJobsView if settings.is_postgres else SQLiteBatchJobsView
    )
    with schema_lock(settings):
        view: BatchJobsView = factory.tracking_recorder(view_class)
        if owner and view.rebuild_if_outdated():
            log.warning("runtime.read_model_rebuilding", reason="columns changed")
    return view


def catalog_read_model(
    app: Jobstream, settings: Settings, *, project: bool, pool_size: int = 4
) -> CatalogReadModel:
    """The catalog view, kept here (`project`) or read as another process keeps it."""
    with schema_lock(settings):
        return CatalogReadModel(
            app=app,
            factory=infrastructure(settings, "catalog", pool_size=pool_size),
            postgres=settings.is_postgres,
            project=project,
            timeout=settings.read_your_writes_timeout,
        )


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
    """One process's Jobstream: API state, projection runner and job processor."""

    def __init__(
        self,
        settings: Settings,
        registry: StrategyRegistry | None = None,
        *,
        process_jobs: bool = True,
        project: bool = True,
        shared: SharedPositions | None = None,
    ) -> None:
        self.settings = settings
        # Embedded with several processes: where the projection is, for the others.
        self.shared = shared
        # Embedded: the log's head read on a connection of the asking thread's own
        # (no pool to wait for: it is asked on the event loop).
        self._head_reads = (
            None
            if settings.is_postgres
            else ThreadReads(storage_env(settings, "events")["SQLITE_DBNAME"])
        )
        self.secrets = resolve_secrets(settings)
        self.app = build_app(settings)
        self._head_sql: str = getattr(
            self.app.recorder, "select_max_notification_id_statement", HEAD_SQL
        )
        self.files = build_file_storage(settings)
        if registry is None:
            registry = StrategyRegistry()
            services = StrategyServices(
                self.app, settings, self.files, lambda: self.catalog_reads
            )
            registry.load_entry_points(services)
        self.registry = registry
        # Each factory owns a connection pool; stop() closes them all.
        self._view_factory = infrastructure(
            settings, BatchJobsProjection.name, pool_size=4
        )
        self._processor_factory = infrastructure(settings, "processor", pool_size=1)
        self.view = build_view(settings, self._view_factory, owner=project)
        self.logins = LoginGuard(settings)
        with schema_lock(settings):
            self.sessions = self._build_sessions()
            processor_position = self._processor_factory.tracking_recorder()
        self.projection = self._build_projection_runner()
        self.processor = processor.BatchJobProcessor(
            app=self.app,
            registry=registry,
            position=processor_position,
            threads=settings.processor_threads,
            max_attempts=settings.max_processing_attempts,
            lease_seconds=settings.lease_seconds,
            limits=TypeLimits(parse_limits(settings.type_concurrency)),
        )
        self.processing = self._build_processing_runner()
        self.reaper = StuckJobReaper(
            self.app, self.view, stuck_after=settings.stuck_job_seconds
        )
        # False when NATS workers run the jobs (`jobstream api`, and tests of workers).
        self.process_jobs = process_jobs
        # False when `jobstream projections` runs the projection in another process.
        self.project = project
        self.catalog_reads = catalog_read_model(self.app, settings, project=project)
        self.catalog = Catalog(self.app)
        self._listener: NotificationListener | None = None
        self._relay_factory: InfrastructureFactory[Any] | None = None
        self._relay_position: TrackingRecorder | None = None

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

    def _build_sessions(self) -> SessionStore:
        ttl = self.settings.session_ttl_seconds
        if self.settings.database_url is not None:
            return PostgresSessionStore(self.settings.database_url, ttl)
        return SQLiteSessionStore(self.settings.data_path / "sessions.sqlite", ttl)

    def start(self) -> None:
        if self.shared is not None:
            self._share_positions(self.shared)
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

    def _share_positions(self, shared: SharedPositions) -> None:
        """Projecting: publish positions, take wake-ups. Else: wake the projector."""
        if self.project:
            shared.reset(BATCH_JOBS, self.view.max_tracking_id(self.app.name) or 0)
            self.projection.on_advance = lambda position: shared.publish(
                BATCH_JOBS, position
            )
            shared.listen(self._wake_from_other_process)
        else:
            self.app.save_listeners.append(shared.announce)

    def _wake_from_other_process(self, topics: Collection[str] | None) -> None:
        """Embedded: another process stored events of `topics`, or waits for a read model."""
        waited = shared_positions.waited_for(topics)
        if waited is None:
            self._wake_runners(topics)
        elif BATCH_JOBS in waited:
            self.projection.wake()  # the others stay asleep (no skip-tracking writes)

    def _wake_runners(self, topics: Collection[str] | None) -> None:
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
        self.catalog_reads.stop()
        self.sessions.close()
        self.logins.close()
        self.files.close()
        self._view_factory.close()
        self._processor_factory.close()
        if self._relay_factory is not None:
            self._relay_factory.close()
        self.app.close()
        if self.shared is not None:
            self.shared.close()
        log.info("runtime.stopped")

    def wait_for_read_model(self, position: int) -> None:
        """Return once GET/list would show the write at `position`; else raise."""
        if not self._wait_for_projection(position):
            raise ReadModelLagError(position)

    def _wait_for_projection(self, position: int) -> bool:
        timeout = self.settings.read_your_writes_timeout
        if self.project:
            return self.projection.wait_for(position, timeout)
        if self.shared is not None:
            return self.shared.wait(BATCH_JOBS, position, timeout)
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

    def read_model_is_current(self) -> bool:
        """Embedded, without waiting: the projection is at the log's head already."""
        if self._head_reads is None:
            return False  # the head is a network round trip: ask on a thread
        head = self._head_reads.one(self._head_sql, ())[0] or 0
        if self.project:
            return self.projection.position >= head
        return self.shared is not None and self.shared.position(BATCH_JOBS) >= head

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
        if self._relay_position is None:
            stream = self.settings.nats_stream.lower()
            self._relay_factory = infrastructure(self.settings, f"relay_{stream}", 1)
            with schema_lock(self.settings):
                self._relay_position = self._relay_factory.tracking_recorder()
        return self._relay_position


def _log_runner_error(name: str, error: BaseException) -> None:
    log.warning("runner.error", runner=name, error=repr(error))
