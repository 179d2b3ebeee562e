"""The event store and the read models the audit tools read, rebuild and verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from domain.batch_jobs import BatchJob
from domain.catalog.base import CatalogAggregate
from projections.batch_jobs.projection import BatchJobsProjection
from projections.catalog.projection import CatalogProjection
from projections.rebuild import LiveRebuild, Progress
from service.bootstrap.process import Bootstrap
from service.commandline.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from projections.batch_jobs.view import SqlBatchJobsView
    from projections.catalog.sql import SqlCatalogView
    from service.application import Jobstream
    from service.runtime import Runtime
    from service.settings import Settings

PROJECTIONS = (BatchJobsProjection.name, CatalogProjection.name)
PAGE = 5000
EVENT_STORE_FILE = "events.sqlite"  # storage_env's file of the "events" store


def require_store(settings: Settings) -> None:
    """CommandError unless the embedded event store exists (a reader creates nothing).

    Opening a store creates it: a read command run in the wrong directory would
    otherwise leave an empty `./var` behind and report an empty history.
    """
    if settings.is_postgres:
        return  # check_database has found the database
    where = f"{settings.data_path.absolute()} (JOBSTREAM_DATA_DIR={settings.data_dir})"
    hint = "run the command where `jobstream serve` runs, or set JOBSTREAM_DATA_DIR"
    if not settings.data_path.is_dir():
        raise CommandError(f"no data directory at {where}: {hint}")
    if not (settings.data_path / EVENT_STORE_FILE).is_file():
        raise CommandError(f"no event store in {where}: {hint}")


@dataclass
class Models:
    """The application and both read models' views (SQL: rebuildable)."""

    app: Jobstream
    jobs: SqlBatchJobsView
    catalog: SqlCatalogView
    parts: Bootstrap  # the process's, for the positions the views do not hold
    _owned: bool = False

    @classmethod
    def of(cls, runtime: Runtime) -> Models:
        """The ones a running process uses (tests, the API's own process)."""
        return cls(
            runtime.app,
            cast("SqlBatchJobsView", runtime.view),
            cast("SqlCatalogView", runtime.catalog_reads.view),
            runtime.parts,
        )

    @classmethod
    def open(cls, settings: Settings) -> Models:
        """Connections of their own, for a command; `close()` them."""
        parts = Bootstrap(settings, project=False, pool_size=2)
        return cls(
            parts.app,
            cast("SqlBatchJobsView", parts.jobs_view),
            cast("SqlCatalogView", parts.catalog_reads.view),
            parts,
            _owned=True,
        )

    def close(self) -> None:
        if self._owned:
            self.parts.close()

    def rebuild(
        self, name: str, on_progress: Callable[[Progress], None] | None = None
    ) -> LiveRebuild:
        """The live rebuild of the read model called `name` (see PROJECTIONS)."""
        event_type: type[object]
        if name == BatchJobsProjection.name:
            view: Any = self.jobs
            topics, event_type = BatchJobsProjection.topics, BatchJob.Event
        elif name == CatalogProjection.name:
            view = self.catalog
            topics, event_type = CatalogProjection.topics, CatalogAggregate.Event
        else:
            raise ValueError(f"no read model called {name!r}: {', '.join(PROJECTIONS)}")
        return LiveRebuild(
            name=name,
            view=view,
            recorder=self.app.recorder,
            mapper=self.app.mapper,
            topics=topics,
            event_type=event_type,
            upstream=self.app.name,
            on_progress=on_progress,
        )

    def events(
        self, topics: Sequence[str] = (), *, start: int = 0, stop: int | None = None
    ) -> Iterator[list[tuple[int, Any]]]:
        """Pages of (notification id, event) after `start`, up to `stop`."""
        while True:
            page = self.app.recorder.select_notifications(
                start=start, limit=PAGE, stop=stop, topics=topics,
                inclusive_of_start=False,
            )  # fmt: skip
            if not page:
                return
            yield [(n.id, self.app.mapper.to_domain_event(n)) for n in page]
            start = page[-1].id
