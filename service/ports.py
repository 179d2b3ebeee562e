"""What the HTTP adapter needs of the running system, so it never imports the wiring."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.auth.logins import LoginGuard
    from service.auth.sessions import SessionStore
    from service.catalog.commands import Catalog
    from service.catalog.readmodel import CatalogReadModel
    from service.files.storage import FileStorage
    from service.read_models.host import ReadModelHost
    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry
    from service.worker_registry import WorkerRegistry


@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    cookie_secret: str


# An ABC, not a Protocol: Litestar checks each dependency value against its annotation
# on every request, and isinstance on a runtime-checkable Protocol is slow on 3.11.
class ApiRuntime(ABC):
    settings: Settings
    secrets: Secrets
    app: Jobstream
    view: BatchJobsView
    registry: StrategyRegistry
    sessions: SessionStore
    logins: LoginGuard
    catalog: Catalog
    catalog_reads: CatalogReadModel
    files: FileStorage
    read_models: ReadModelHost

    @abstractmethod
    def start(self) -> None:
        """Start background work (projection, processing)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop background work and close connections."""

    @abstractmethod
    def settle(self, position: int, caller_id: str | None = None) -> None:
        """After a write: the caller's next read shows it."""

    @abstractmethod
    async def settle_async(self, position: int, caller_id: str | None = None) -> None:
        """`settle` from the event loop, holding no thread while it waits."""

    @abstractmethod
    def catch_up_read_model(
        self, caller_id: str | None = None, *, everything: bool = False
    ) -> None:
        """Before a read: wait until the view has every event stored so far.

        With `caller_id`, where its writes are known: every write of the caller's
        instead, or with `everything` both.
        """

    @abstractmethod
    def health(self) -> dict[str, str]:
        """Each dependency's state: "ok", or why not."""

    @abstractmethod
    def details(self) -> dict[str, object]:
        """Health, the log's head, and how far each reader of it is behind."""

    @abstractmethod
    def worker_registry(self) -> WorkerRegistry:
        """The registry of job-engine workers (their heartbeats)."""

    @abstractmethod
    def relay_position(self) -> int | None:
        """What the relay has published up to; None where NATS is not configured."""
