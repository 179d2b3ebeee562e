"""Catalog commands over the event store: the store's defaults, records and products.

Every command takes the `actor` its events record: a user id, or `batch:<job id>` when
a batch job makes the change. Each returns what it saved and the position of its last
event, so a caller can wait for the read model to show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.catalog import shipping_profiles
from domain.catalog.categories import ProductCategory
from domain.catalog.collections import Collection
from domain.catalog.products import CatalogContext, Product
from domain.catalog.regions import Region
from domain.catalog.sales_channels import (
    DEFAULT_DESCRIPTION,
    DEFAULT_NAME,
    SalesChannel,
)
from domain.catalog.shipping_profiles import ShippingProfile
from domain.catalog.store import STORE_ID, Store
from domain.errors import NotFoundError, SalesChannelsNotFoundError
from service.catalog.changes import CatalogChanges

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from domain.catalog.base import JsonObject

SYSTEM_ACTOR = "system"


def batch_actor(job_id: str) -> str:
    """The actor of changes a batch job makes."""
    return f"batch:{job_id}"


class Catalog:
    """The catalog's application commands, over the one Jobstream event store."""

    def __init__(self, app: Application[str]) -> None:
        self.app = app
        self._store: Store | None = None

    def changes(self, actor: str) -> CatalogChanges:
        """A change set: many creates and updates, saved atomically by its `save()`."""
        return CatalogChanges(self.app, actor)

    # -- the store's defaults ------------------------------------------------------

    def store(self) -> Store:
        """The default sales channel and shipping profiles (made on first use)."""
        self.ensure_store()
        if self._store is None:  # pragma: no cover - ensure_store sets it
            raise TypeError("no store")
        return self._store

    def ensure_store(self) -> int:
        """Make the store's defaults unless they exist.

        Returns the position of their events when this call made them, else 0.
        Idempotent across processes: the store has a fixed id, so a second creation
        conflicts, and the loser reads the winner's. Made on first use, not at start,
        so a store that never uses the catalog records no catalog events.
        """
        if self._store is not None:
            return 0
        position = 0
        try:
            found: object = self.app.repository.get(STORE_ID)
        except AggregateNotFoundError:
            found, position = self._create_store()
        if not isinstance(found, Store):
            raise TypeError(f"{STORE_ID} is not a Store")
        self._store = found
        return position

    def _create_store(self) -> tuple[object, int]:
        channel = SalesChannel.create(
            name=DEFAULT_NAME, description=DEFAULT_DESCRIPTION, is_disabled=False,
            actor=SYSTEM_ACTOR,
        )  # fmt: skip
        profile, gift_card = (
            ShippingProfile.create(name=name, profile_type=kind, actor=SYSTEM_ACTOR)
            for name, kind in (shipping_profiles.DEFAULT, shipping_profiles.GIFT_CARD)
        )
        store = Store.create(
            sales_channel_id=channel.id, profile_id=profile.id,
            gift_card_profile_id=gift_card.id, actor=SYSTEM_ACTOR,
        )  # fmt: skip
        try:
            recordings = self.app.save(store, channel, profile, gift_card)
        except IntegrityError:
            return self.app.repository.get(STORE_ID), 0
        return store, recordings[-1].notification.id

    @property
    def has_store(self) -> bool:
        """True once this process has read or made the store's defaults."""
        return self._store is not None

    # -- records -------------------------------------------------------------------

    def create_region(self, data: JsonObject, actor: str) -> tuple[Region, int]:
        changes = self.changes(actor)
        region = changes.add(Region.create(**data, actor=actor))
        return region, changes.save()

    def create_collection(self, data: JsonObject, actor: str) -> tuple[Collection, int]:
        changes = self.changes(actor)
        collection = changes.add(Collection.create(**data, actor=actor))
        return collection, changes.save()

    def create_sales_channel(
        self, data: JsonObject, actor: str
    ) -> tuple[SalesChannel, int]:
        changes = self.changes(actor)
        channel = changes.add(SalesChannel.create(**data, actor=actor))
        return channel, changes.save()

    def create_category(
        self, data: JsonObject, rank: int, actor: str
    ) -> tuple[ProductCategory, int]:
        """`rank`: the read model's count of categories under the same parent."""
        changes = self.changes(actor)
        parent = data.get("parent_category_id")
        if parent is not None:
            changes.get(
                ProductCategory,
                parent,
                f"ProductCategory with id: {parent} was not found",
            )
        category = changes.add(ProductCategory.create(**data, rank=rank, actor=actor))
        return category, changes.save()

    # -- products ------------------------------------------------------------------

    def create_product(self, changes: CatalogChanges, data: JsonObject) -> Product:
        """Add a product made from a validated AdminPostProductsReq body to `changes`."""
        context = self.context(changes, data)
        return changes.add(Product.create(data, context, changes.actor))

    def update_product(
        self, changes: CatalogChanges, product_id: str, data: JsonObject
    ) -> Product:
        """Apply a validated AdminPostProductsProductReq body to the product in `changes`.

        Variants listed in `data["variants"]` replace the product's; variants updated
        without `prices` keep theirs.
        """
        product = self.get_product(changes, product_id)
        product.update(data, self.context(changes, data), changes.actor)
        return product

    def get_product(self, changes: CatalogChanges, product_id: str) -> Product:
        product = changes.get(
            Product, product_id, f"Product with id: {product_id} was not found"
        )
        if product.deleted_at is not None:
            raise NotFoundError(f"Product with id: {product_id} was not found")
        return product

    def delete_product(self, product_id: str, actor: str) -> int:
        """Soft delete; idempotent, like Medusa (an unknown id is not an error)."""
        changes = self.changes(actor)
        try:
            product = changes.get(Product, product_id, "")
        except NotFoundError:
            return 0
        product.delete(actor)
        return changes.save()

    def context(self, changes: CatalogChanges, data: JsonObject) -> CatalogContext:
        """Check what `data` refers to exists; the store's defaults and region currencies."""
        self._check_references(changes, data)
        store = self.store()
        return CatalogContext(
            default_profile_id=store.default_profile_id,
            gift_card_profile_id=store.gift_card_profile_id,
            default_sales_channel_id=store.default_sales_channel_id,
            region_currencies=self._region_currencies(changes, data),
        )

    def _check_references(self, changes: CatalogChanges, data: JsonObject) -> None:
        channels = [c["id"] for c in data.get("sales_channels") or []]
        missing = [c for c in channels if not changes.exists(SalesChannel, c)]
        if missing:
            raise SalesChannelsNotFoundError(missing)
        collection_id = data.get("collection_id")
        if collection_id and not changes.exists(Collection, collection_id):
            raise NotFoundError(
                f"Product_collection with collection_id {collection_id} does not exist."
            )
        for category in data.get("categories") or []:
            if not changes.exists(ProductCategory, category["id"]):
                raise NotFoundError(
                    "Product_category with product_category_id "
                    f"{category['id']} does not exist."
                )

    def _region_currencies(
        self, changes: CatalogChanges, data: JsonObject
    ) -> dict[str, str]:
        wanted = {
            price["region_id"]
            for variant in data.get("variants") or []
            for price in variant.get("prices") or []
            if price.get("region_id")
        }
        currencies: dict[str, str] = {}
        for region_id in sorted(wanted):
            if changes.exists(Region, region_id):
                region: Any = changes.get(Region, region_id, "")
                currencies[region_id] = region.currency_code
        return currencies
