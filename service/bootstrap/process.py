"""Bootstrap: everything one process needs, built from Settings once, each on first use.

Every role (`serve`, `api`, `projections`, `relay`, `worker`) and every command takes
its parts from one Bootstrap, so a process holds one `Jobstream` application (one
event-store connection pool, one user cache), whichever roles it runs. `built` counts
what was built, by kind, so that stays checkable.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, TypeVar

from projections.read_models.known import BATCH_JOBS, CATALOG
from service.auth.logins import LoginGuard
from service.bootstrap import stores
from service.bootstrap.secrets import resolve_secrets
from service.catalog.commands import Catalog
from service.files.backends import build_file_storage
from service.read_models.host import ReadModelHost
from service.strategies.registry import StrategyRegistry, StrategyServices
from service.tracing import lifecycle as tracing_lifecycle

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.persistence import TrackingRecorder

    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.auth.sessions import SessionStore
    from service.catalog.readmodel import CatalogReadModel
    from service.files.storage import FileStorage
    from service.ports import Secrets
    from service.settings import Settings

T = TypeVar("T")


class Bootstrap:
    """The parts of one process; `close()` closes those built, newest first."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: StrategyRegistry | None = None,
        project: bool = True,
        pool_size: int = 4,
        other_writers: bool = False,
    ) -> None:
        """`project`: this process keeps the read models (else it reads another's).

        `other_writers`: other processes store events in the same embedded store
        (several HTTP processes), so none of them learns the log's head from its saves.

        `registry`: the strategies to use instead of the entry points' (tests).
        `pool_size`: each read store's connections (see `service.stores.pool_env`).
        """
        self.settings = settings
        self.project = project
        self.built: Counter[str] = Counter()
        self._registry = registry
        self._pool_size = pool_size
        self._other_writers = other_writers
        self._parts: dict[str, Any] = {}
        self._closers: list[Callable[[], None]] = []
        # Reentrant: building a part may build the parts it needs.
        self._lock = threading.RLock()
        self._closed = False
        # Tracing (if OTEL_* asks) before any part: closed last, it flushes every span.
        if tracing_lifecycle.acquire():
            self._closers.append(tracing_lifecycle.release)

    def _part(
        self,
        name: str,
        build: Callable[[], T],
        close: Callable[[T], None] | None = None,
    ) -> T:
        """The part called `name`, built on first use, from any thread."""
        with self._lock:
            if name not in self._parts:
                if self._closed:
                    raise RuntimeError(f"bootstrap closed: cannot build {name}")
                part = build()
                self._parts[name] = part
                self.built[name] += 1
                if close is not None:
                    self._closers.append(lambda: close(part))
            return self._parts[name]  # type: ignore[no-any-return]

    @property
    def app(self) -> Jobstream:
        """The process's one eventsourcing application."""
        return self._part(
            "Jobstream", lambda: stores.build_app(self.settings), lambda a: a.close()
        )

    @property
    def secrets(self) -> Secrets:
        return self._part("secrets", lambda: resolve_secrets(self.settings))

    @property
    def files(self) -> FileStorage:
        return self._part(
            "files", lambda: build_file_storage(self.settings), lambda f: f.close()
        )

    @property
    def registry(self) -> StrategyRegistry:
        """The strategies: the given ones, else every `jobstream.strategies` entry point."""
        return self._part("registry", self._build_registry)

    def _build_registry(self) -> StrategyRegistry:
        if self._registry is not None:
            return self._registry
        registry = StrategyRegistry()
        # The catalog is read on first use: a worker builds it only if a strategy reads.
        services = StrategyServices(
            self.app, self.settings, self.files, lambda: self.catalog_reads
        )
        registry.load_entry_points(services)
        return registry

    @property
    def sessions(self) -> SessionStore:
        return self._part(
            "sessions",
            lambda: _locked(
                self.settings, lambda: stores.build_sessions(self.settings)
            ),
            lambda s: s.close(),
        )

    @property
    def logins(self) -> LoginGuard:
        return self._part(
            "logins", lambda: LoginGuard(self.settings), lambda g: g.close()
        )

    @property
    def read_models(self) -> ReadModelHost:
        """Every read model: kept here where this process projects, else awaited.

        Started by whoever runs them (the runtime, or a worker that reads the catalog).
        """
        return self._part(
            "read_models",
            lambda: ReadModelHost(
                self.settings,
                self.app,
                project=self.project,
                pool_size=self._pool_size,
                other_writers=self._other_writers,
            ),
            lambda host: host.stop(),
        )

    @property
    def jobs_view(self) -> BatchJobsView:
        """The batch-jobs view (rebuilt, if outdated, where this process projects)."""
        view: BatchJobsView = self.read_models[BATCH_JOBS.name].view
        return view

    @property
    def catalog_reads(self) -> CatalogReadModel:
        """The catalog's read model; its runner runs only where the host is started."""
        reads: CatalogReadModel = self.read_models[CATALOG.name]
        return reads

    @property
    def catalog(self) -> Catalog:
        return self._part("catalog", lambda: Catalog(self.app))

    @property
    def processor_position(self) -> TrackingRecorder:
        """Where the in-process job processor has read the event log up to."""
        return self._tracking("processor")

    @property
    def relay_position(self) -> TrackingRecorder:
        """What the relay of this deployment's stream has published (one per stream)."""
        return self._tracking(f"relay_{self.settings.nats_stream.lower()}")

    def _tracking(self, store: str) -> TrackingRecorder:
        factory = self._part(
            f"{store}_store",
            lambda: stores.infrastructure(self.settings, store, pool_size=1),
            lambda f: f.close(),
        )
        position: TrackingRecorder = self._part(
            f"{store}_position",
            lambda: _locked(self.settings, factory.tracking_recorder),
        )
        return position

    def close(self) -> None:
        """Close every part built, newest first; later uses raise."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()


def _locked(settings: Settings, build: Callable[[], T]) -> T:
    """`build()` under the schema lock: it creates tables."""
    with stores.schema_lock(settings):
        return build()
