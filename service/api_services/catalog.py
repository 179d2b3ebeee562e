"""What the catalog endpoints use: its commands, its view, read-your-writes waits."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from projections.catalog.view import CatalogView
    from service.catalog.commands import Catalog
    from service.catalog.readmodel import CatalogReadModel


class CatalogService(ABC):  # an ABC: see BatchJobsService
    @property
    @abstractmethod
    def commands(self) -> Catalog:
        """The catalog's commands (each returns the position of what it saved)."""

    @property
    @abstractmethod
    def view(self) -> CatalogView:
        """The catalog's read model."""

    @abstractmethod
    def settle(self, position: int) -> None:
        """After a write: wait until the caller's next read shows it (else raise)."""

    @abstractmethod
    def catch_up(self) -> None:
        """Before a read: wait until the view has every event stored so far."""


class CatalogParts(CatalogService):
    """Over the process's catalog commands and catalog read model."""

    def __init__(self, commands: Catalog, reads: CatalogReadModel) -> None:
        self._commands, self._reads = commands, reads

    @property
    def commands(self) -> Catalog:
        return self._commands

    @property
    def view(self) -> CatalogView:
        return self._reads.view

    def settle(self, position: int) -> None:
        self._reads.settle(position)

    def catch_up(self) -> None:
        self._reads.catch_up()
