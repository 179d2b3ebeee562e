"""The event store and the read models the audit tools read, rebuild and verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from projections.read_models.known import BATCH_JOBS, CATALOG, NAMES
from service.bootstrap.process import Bootstrap
from service.commandline.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from projections.batch_jobs.view import SqlBatchJobsView
    from projections.catalog.sql import SqlCatalogView
    from projections.parking import Parking
    from projections.rebuild import LiveRebuild, Progress
    from service.application import Jobstream
    from service.read_models.host import ReadModelHost
    from service.runtime import Runtime
    from service.settings import Settings

PROJECTIONS = NAMES
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
    """The application and its read models (SQL views: rebuildable)."""

    app: Jobstream
    read_models: ReadModelHost
    parts: Bootstrap  # the process's, for the positions the views do not hold
    owned: bool = False  # a command's own: closed with it

    @classmethod
    def of(cls, runtime: Runtime) -> Models:
        """The ones a running process uses (tests, the API's own process)."""
        return cls(runtime.app, runtime.read_models, runtime.parts)

    @classmethod
    def open(cls, settings: Settings) -> Models:
        """Connections of their own, for a command; `close()` them."""
        parts = Bootstrap(settings, project=False, pool_size=2)
        return cls(parts.app, parts.read_models, parts, owned=True)

    @property
    def jobs(self) -> SqlBatchJobsView:
        return cast("SqlBatchJobsView", self.read_models[BATCH_JOBS.name].view)

    @property
    def catalog(self) -> SqlCatalogView:
        return cast("SqlCatalogView", self.read_models[CATALOG.name].view)

    def view(self, name: str) -> Parking:
        """The view of the read model called `name`."""
        return cast("Parking", self.read_models[name].view)

    def close(self) -> None:
        if self.owned:
            self.parts.close()

    def rebuild(
        self, name: str, on_progress: Callable[[Progress], None] | None = None
    ) -> LiveRebuild:
        """The live rebuild of the read model called `name` (see PROJECTIONS)."""
        return self.read_models.rebuild(name, on_progress)

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
