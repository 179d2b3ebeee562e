"""Uniqueness claims: one aggregate per unique value (a product handle, a SKU).

A claim's id is `<namespace>:<value>`. Saving it with the entity that takes the value
makes the value unique: two writers racing for one value conflict on the claim's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import BaseAggregate

from domain import aggregates
from domain.catalog.geography import COUNTRIES
from domain.catalog.prices import variant_error
from domain.errors import DomainError, DuplicateError

PRODUCT_HANDLE = "product-handle"
VARIANT_SKU = "variant-sku"
COLLECTION_HANDLE = "collection-handle"
CATEGORY_HANDLE = "category-handle"
# Held by a product-import job once its changes are saved (in the same transaction).
PRODUCT_IMPORT = "product-import"


def claim_key(namespace: str, value: str) -> str:
    return f"{namespace}:{value}"


class Claim(BaseAggregate[str]):
    """Who holds a unique value now (`owner`, an entity id), or nobody (None)."""

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        owner: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.owner = self.owner

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        NAME = "claim.created"

    @dataclass(frozen=True)
    class Changed(Event):
        NAME = "claim.changed"

    def __init__(self) -> None:
        self.owner: str | None = None

    @classmethod
    def take(cls, key: str, owner: str | None, actor: str) -> Claim:
        return cls._create(cls.Created, id=key, owner=owner, actor=actor)

    @property
    def namespace(self) -> str:
        return self.id.partition(":")[0]

    @property
    def value(self) -> str:
        return self.id.partition(":")[2]

    def is_free_for(self, owner: str) -> bool:
        return self.owner in (None, owner)

    def hand_to(self, owner: str | None, actor: str) -> None:
        if self.owner != owner:
            self.trigger_event(self.Changed, owner=owner, actor=actor)


REGION_COUNTRY = "region-country"


def duplicate_error(key: str, owner: str | None) -> DomainError:
    """Medusa's error when a unique value is taken (by `owner`)."""
    namespace, _, value = key.partition(":")
    if namespace == VARIANT_SKU:
        # Variant errors come back as 400s with the database's message (see prices).
        return variant_error(
            'duplicate key value violates unique constraint "IDX_2ca8cfbdafb998ecfd6d340389"'
        )
    if namespace == REGION_COUNTRY:
        name = COUNTRIES[value][2] if value in COUNTRIES else value
        return DuplicateError(f"{name} already exists in region {owner}")
    table = {
        PRODUCT_HANDLE: "Product",
        COLLECTION_HANDLE: "Product_collection",
        CATEGORY_HANDLE: "Product_category",
    }[namespace]
    return DuplicateError(f"{table} with handle {value} already exists.")
