"""Sales channels; the store's default one is made at first start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.catalog.base import CatalogAggregate, JsonObject

DEFAULT_NAME = "Default Sales Channel"
DEFAULT_DESCRIPTION = "Created by Medusa"


class SalesChannel(CatalogAggregate):
    KIND = "sales_channel"
    PREFIX = "sc"

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "sales-channel.created"
        name: str
        description: str | None
        is_disabled: bool
        metadata: JsonObject | None

        def change(self, aggregate: Any) -> None:
            aggregate.name = self.name
            aggregate.description = self.description
            aggregate.is_disabled = self.is_disabled
            aggregate.metadata = self.metadata

    @classmethod
    def create(
        cls,
        *,
        name: str,
        description: str | None,
        is_disabled: bool,
        actor: str,
        metadata: JsonObject | None = None,
    ) -> SalesChannel:
        return cls._create(
            cls.Created, id=cls.new_id(), name=name, description=description,
            is_disabled=is_disabled, metadata=metadata, actor=actor,
        )  # fmt: skip
