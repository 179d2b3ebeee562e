"""Strategies by batch type, extensible through the `jobstream.strategies` entry points."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from domain.errors import NotFoundError

if TYPE_CHECKING:
    from domain.strategies import BatchJobStrategy
    from service.application import Jobstream
    from service.catalog.readmodel import CatalogReadModel
    from service.files.storage import FileStorage
    from service.settings import Settings

ENTRY_POINT_GROUP = "jobstream.strategies"


@dataclass(frozen=True)
class StrategyServices:
    """What a strategy factory may use; grows as strategies need files or a catalog."""

    app: Jobstream
    settings: Settings
    files: FileStorage  # exports write here, imports read uploads from here
    # The catalog's read model, built on first use (a worker builds it only if a
    # strategy reads the catalog).
    catalog: Callable[[], CatalogReadModel]


StrategyFactory = Callable[[StrategyServices], "BatchJobStrategy"]


class StrategyRegistry:
    def __init__(self, strategies: Iterable[BatchJobStrategy] = ()) -> None:
        self._by_type: dict[str, BatchJobStrategy] = {}
        for strategy in strategies:
            self.register(strategy)

    def register(self, strategy: BatchJobStrategy) -> None:
        self._by_type[strategy.batch_type] = strategy

    def get(self, batch_type: str) -> BatchJobStrategy:
        try:
            return self._by_type[batch_type]
        except KeyError:
            raise NotFoundError(
                f"Unable to find a BatchJob strategy with the type {batch_type}"
            ) from None

    @property
    def batch_types(self) -> list[str]:
        return sorted(self._by_type)

    def load_entry_points(self, services: StrategyServices) -> None:
        """Register every installed `jobstream.strategies` factory.

        Jobstream's own (product-export) first: another package's strategy for the
        same batch type replaces the built-in one.
        """
        found = entry_points(group=ENTRY_POINT_GROUP)
        own = [e for e in found if e.dist is not None and e.dist.name == "jobstream"]
        others = [e for e in found if e not in own]
        for entry_point in [*own, *others]:
            factory: StrategyFactory = entry_point.load()
            self.register(factory(services))
