"""Product categories: a tree of named, ranked categories with unique handles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.catalog import claims
from domain.catalog.base import CatalogAggregate, JsonObject
from domain.catalog.text import kebab_case


class ProductCategory(CatalogAggregate):
    KIND = "category"
    PREFIX = "pcat"
    if TYPE_CHECKING:  # set by the events' apply; annotations here would make
        # eventsourcing generate an __init__ from them
        name: str
        handle: str
        parent_category_id: str | None

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "product-category.created"
        name: str
        handle: str
        description: str | None
        is_active: bool
        is_internal: bool
        parent_category_id: str | None
        rank: int
        metadata: JsonObject | None

        def change(self, aggregate: Any) -> None:
            aggregate.name = self.name
            aggregate.handle = self.handle
            aggregate.description = self.description
            aggregate.is_active = self.is_active
            aggregate.is_internal = self.is_internal
            aggregate.parent_category_id = self.parent_category_id
            aggregate.rank = self.rank
            aggregate.metadata = self.metadata

    @classmethod
    def create(  # noqa: PLR0913 - Medusa's category fields, all by name
        cls,
        *,
        name: str,
        handle: str | None,
        description: str | None,
        is_active: bool,
        is_internal: bool,
        parent_category_id: str | None,
        rank: int,
        metadata: JsonObject | None,
        actor: str,
    ) -> ProductCategory:
        """`rank`: how many categories share the parent (all of them for a root)."""
        return cls._create(
            cls.Created, id=cls.new_id(), name=name, handle=handle or kebab_case(name),
            description=description, is_active=is_active, is_internal=is_internal,
            parent_category_id=parent_category_id, rank=rank, metadata=metadata,
            actor=actor,
        )  # fmt: skip

    def unique_keys(self) -> set[str]:
        return {claims.claim_key(claims.CATEGORY_HANDLE, self.handle)}
