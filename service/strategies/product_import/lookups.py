"""The import plan's catalog lookups, each value looked up once per job."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec

from domain.product_csv.import_checks import ProductShape

if TYPE_CHECKING:
    from collections.abc import Mapping

    from service.catalog.lookups import CatalogLookups


class PlanLookups:
    """Implements domain.product_csv.import_plan.ImportLookups over CatalogLookups."""

    def __init__(self, lookups: CatalogLookups) -> None:
        self._lookups = lookups
        self.region = cache(self._region)
        self.collection_id = cache(lookups.collection_id_by_handle)
        self.category_id = cache(lookups.category_id_by_handle)
        self._channel = cache(self._channel_by)
        self.product_id_by_handle = cache(lookups.product_id_by_handle)
        self.variant_by_sku = lookups.variant_by_sku

    def product(self, product_id: str) -> ProductShape | None:
        """The product's options and its variants' option values, by title."""
        document = self._lookups.view.get_product(product_id)
        if document is None:
            return None
        state: dict[str, Any] = msgspec.json.decode(document)
        titles = {o["id"]: o["title"] for o in state.get("options") or []}
        return ProductShape(
            id=product_id,
            handle=str(state.get("handle")),
            options=list(titles.values()),
            variants={
                v["id"]: {
                    str(titles.get(o["option_id"])): o["value"] for o in v["options"]
                }
                for v in state.get("variants") or []
            },
        )

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
