"""The import plan's catalog lookups: each value looked up once per job, in bulk.

The planner asks before each chunk of rows for the handles, SKUs and products the
chunk names (`prefetch`), so a 10,000-row file costs a few queries, not one per row.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec

from domain.catalog import claims
from domain.catalog.claims import Claim
from domain.product_csv.import_checks import ProductShape
from projections.catalog.query import ProductFilter
from service.bulk_store import read_events

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from service.catalog.lookups import CatalogLookups


class _Option(msgspec.Struct):
    id: str
    title: str


class _Value(msgspec.Struct):
    option_id: str
    value: Any


class _Variant(msgspec.Struct):
    id: str
    sku: str | None = None
    options: list[_Value] = []


class _Product(msgspec.Struct):
    """The part of a product document the checks read (the rest is skipped)."""

    id: str
    handle: str | None = None
    options: list[_Option] = []
    variants: list[_Variant] = []


_decode = msgspec.json.Decoder(_Product).decode


class PlanLookups:
    """Implements domain.product_csv.import_plan.ImportLookups over CatalogLookups."""

    def __init__(self, lookups: CatalogLookups) -> None:
        self._lookups = lookups
        self.region = cache(self._region)
        self.collection_id = cache(lookups.collection_id_by_handle)
        self.category_id = cache(lookups.category_id_by_handle)
        self._channel = cache(self._channel_by)
        self._owners: dict[str, str | None] = {}  # claim key -> owner
        self._products: dict[str, ProductShape | None] = {}

    def prefetch(
        self, handles: Iterable[str], skus: Iterable[str], product_ids: Iterable[str]
    ) -> None:
        keys = [claims.claim_key(claims.PRODUCT_HANDLE, h) for h in handles]
        keys += [claims.claim_key(claims.VARIANT_SKU, s) for s in skus]
        self._read_claims([k for k in keys if k not in self._owners])
        wanted = tuple(sorted({i for i in product_ids if i not in self._products}))
        if wanted:
            view = self._lookups.view
            page = view.page_products(ProductFilter(ids=wanted), limit=len(wanted))
            for document in page.documents:
                shape = _shape(_decode(document))
                self._products[shape.id] = shape
            for product_id in wanted:
                self._products.setdefault(product_id, None)

    def _read_claims(self, keys: list[str]) -> None:
        if not keys:
            return
        app = self._lookups.app
        stored = read_events(app, keys)
        for key in keys:
            events = stored.get(key)
            # Every claim event names the owner from then on: the last one says.
            last: object = app.mapper.to_domain_event(events[-1]) if events else None
            self._owners[key] = last.owner if isinstance(last, Claim.Event) else None

    def _owner(self, key: str) -> str | None:
        if key not in self._owners:
            self._read_claims([key])
        return self._owners[key]

    def product_id_by_handle(self, handle: str) -> str | None:
        return self._owner(claims.claim_key(claims.PRODUCT_HANDLE, handle))

    def sku_owner(self, sku: str) -> str | None:
        return self._owner(claims.claim_key(claims.VARIANT_SKU, sku))

    def product(self, product_id: str) -> ProductShape | None:
        if product_id not in self._products:
            self.prefetch((), (), [product_id])
        return self._products[product_id]

    def _region(self, name: str) -> tuple[str, str] | None:
        found = self._lookups.region_by_name(name)
        if found is None:
            return None
        return found.id, str(found.state["currency_code"])

    def sales_channel_id(self, channel: Mapping[str, str]) -> str | None:
        return self._channel(channel.get("id"), channel.get("name"))

    def _channel_by(self, channel_id: str | None, name: str | None) -> str | None:
        for key in (channel_id, name):
            if key:
                found = self._lookups.sales_channel(key)
                if found is not None:
                    return found.id
        return None


def _shape(product: _Product) -> ProductShape:
    """A product document's options and its variants' option values and SKUs."""
    titles = {option.id: option.title for option in product.options}
    return ProductShape(
        id=product.id,
        handle=str(product.handle),
        options=list(titles.values()),
        variants={
            v.id: {titles.get(o.option_id, ""): o.value for o in v.options}
            for v in product.variants
        },
        skus={v.sku: v.id for v in product.variants if v.sku},
    )
