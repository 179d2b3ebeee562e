"""Product collections: a title and a unique handle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.catalog import claims
from domain.catalog.base import CatalogAggregate, JsonObject
from domain.catalog.text import kebab_case


class Collection(CatalogAggregate):
    KIND = "collection"
    PREFIX = "pcol"
    if TYPE_CHECKING:  # set by the events' apply; annotations here would make
        # eventsourcing generate an __init__ from them
        title: str
        handle: str

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "product-collection.created"
        title: str
        handle: str
        metadata: JsonObject | None

        def change(self, aggregate: Any) -> None:
            aggregate.title = self.title
            aggregate.handle = self.handle
            aggregate.metadata = self.metadata

    @classmethod
    def create(
        cls, *, title: str, handle: str | None, metadata: JsonObject | None, actor: str
    ) -> Collection:
        return cls._create(
            cls.Created, id=cls.new_id(), title=title,
            handle=handle or kebab_case(title), metadata=metadata, actor=actor,
        )  # fmt: skip

    def unique_keys(self) -> set[str]:
        return {claims.claim_key(claims.COLLECTION_HANDLE, self.handle)}
