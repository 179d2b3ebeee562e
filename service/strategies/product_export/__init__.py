"""Medusa v1's `product-export` batch job: the catalog as its CSV, streamed to a file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.files.owners import FileOwners
from service.strategies.product_export.strategy import ProductExportStrategy

if TYPE_CHECKING:
    from service.strategies.registry import StrategyServices


def make_strategy(services: StrategyServices) -> ProductExportStrategy:
    """The `jobstream.strategies` entry point (pyproject.toml)."""
    return ProductExportStrategy(
        catalog=services.catalog,
        files=services.files,
        owners=FileOwners(services.app),
    )
