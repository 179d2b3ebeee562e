"""The catalog read model in a process: its view, its catch-up runner, and waits."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking

from projections.catalog.postgres import PostgresCatalogView
from projections.catalog.projection import CatalogProjection
from projections.catalog.sqlite import SQLiteCatalogView
from projections.runner import CatchUpRunner
from service import parked
from service.read_model_lag import ReadModelLagError

if TYPE_CHECKING:
    from eventsourcing.persistence import InfrastructureFactory

    from projections.catalog.view import CatalogView
    from service.application import Jobstream

log = structlog.get_logger("catalog")
REMOTE_POLL_SECONDS = 0.005


class CatalogReadModel:
    """The catalog projection, run here (`project=True`) or in another process.

    Without `project`, it watches the position `jobstream projections` records.
    GET/list wait on it.
    """

    NAME = CatalogProjection.name

    def __init__(
        self,
        *,
        app: Jobstream,
        factory: InfrastructureFactory[Any],
        postgres: bool,
        project: bool,
        timeout: float,
    ) -> None:
        self.app = app
        self._factory = factory
        self.project = project
        self.timeout = timeout
        view_class: type[Any] = PostgresCatalogView if postgres else SQLiteCatalogView
        self.view: CatalogView = factory.tracking_recorder(view_class)
        self.runner = CatchUpRunner(
            name="projection.catalog",
            recorder=app.recorder,
            mapper=app.mapper,
            topics=CatalogProjection.topics,
            start_position=lambda: self.view.max_tracking_id(app.name),
            handler=CatalogProjection(self.view, app.name),
            on_error=lambda name, error: log.warning(
                "runner.error", runner=name, error=repr(error)
            ),
            on_skip=self._record_skip,
            on_poison=parked.parker(CatalogProjection.name, self.view, app.name),
        )

    def _record_skip(self, position: int) -> None:
        with contextlib.suppress(IntegrityError):  # recorded further already
            self.view.insert_tracking(Tracking(self.app.name, position))

    def start(self) -> None:
        if self.project:
            self.app.save_listeners.append(self.runner.wake_for)
            self.runner.start()

    def stop(self) -> None:
        """Stop the runner and close the view's connections."""
        self.runner.stop()
        self._factory.close()

    def wait_for(self, position: int) -> bool:
        """True once the view has folded every event up to `position`."""
        if self.project:
            return self.runner.wait_for(position, self.timeout)
        deadline = time.monotonic() + self.timeout
        while (self.view.max_tracking_id(self.app.name) or 0) < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(REMOTE_POLL_SECONDS)
        return True

    def catch_up(self) -> None:
        """Before a read: the view has every event stored when the request began."""
        position = self.app.recorder.max_notification_id() or 0
        if not self.wait_for(position):
            raise ReadModelLagError(position)

    def settle(self, position: int) -> None:
        """After a write: wait so the caller's next read shows it (answer anyway)."""
        if not self.wait_for(position):
            log.warning("catalog.read_model_lag", position=position)
