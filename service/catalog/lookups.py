"""Catalog lookups for product-import: by handle, SKU, variant id and by name.

Handles and SKUs are read from their uniqueness claims in the event store, so they
see every saved change at once; the rest reads the catalog read model (call
`CatalogReadModel.catch_up()` first to see recent writes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from domain.catalog import claims
from domain.catalog.claims import Claim

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from projections.catalog.view import CatalogView, Record


class CatalogLookups:
    def __init__(self, app: Application[str], view: CatalogView) -> None:
        self.app = app
        self.view = view

    def _owner(self, namespace: str, value: str) -> str | None:
        try:
            claim: object = self.app.repository.get(claims.claim_key(namespace, value))
        except AggregateNotFoundError:
            return None
        return claim.owner if isinstance(claim, Claim) else None

    def product_id_by_handle(self, handle: str) -> str | None:
        """The live product with this handle."""
        return self._owner(claims.PRODUCT_HANDLE, handle)

    def variant_by_sku(self, sku: str) -> tuple[str, str] | None:
        """(product id, variant id) of the live variant with this SKU."""
        product_id = self._owner(claims.VARIANT_SKU, sku)
        if product_id is None:
            return None
        return self.view.find_variant(sku=sku) or None

    def variant_by_id(self, variant_id: str) -> tuple[str, str] | None:
        """(product id, variant id) of a live variant."""
        return self.view.find_variant(variant_id=variant_id)

    def collection_id_by_handle(self, handle: str) -> str | None:
        return self._owner(claims.COLLECTION_HANDLE, handle)

    def category_id_by_handle(self, handle: str) -> str | None:
        return self._owner(claims.CATEGORY_HANDLE, handle)

    def region_by_name(self, name: str) -> Record | None:
        """The newest region with this name (region names are not unique)."""
        return self._first("region", "name", name)

    def sales_channel(self, id_or_name: str) -> Record | None:
        """A sales channel by id, else the newest with this name."""
        found = self.view.get_record("sales_channel", id_or_name)
        return found or self._first("sales_channel", "name", id_or_name)

    def _first(self, kind: str, field: str, value: str) -> Record | None:
        records = self.view.list_records(kind)
        return next((r for r in records if r.state.get(field) == value), None)
