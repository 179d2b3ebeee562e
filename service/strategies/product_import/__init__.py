"""Medusa v1's `product-import` batch job: a CSV from file storage into the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.strategies.product_import.strategy import ProductImportStrategy

if TYPE_CHECKING:
    from service.strategies.registry import StrategyServices


def make_strategy(services: StrategyServices) -> ProductImportStrategy:
    """The `jobstream.strategies` entry point (pyproject.toml)."""
    return ProductImportStrategy(
        app=services.app, catalog=services.catalog, files=services.files
    )
