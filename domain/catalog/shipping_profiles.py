"""Shipping profiles: the default one and the gift-card one exist from the first start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.catalog.base import CatalogAggregate, JsonObject

DEFAULT = ("Default Shipping Profile", "default")
GIFT_CARD = ("Gift Card Profile", "gift_card")


class ShippingProfile(CatalogAggregate):
    KIND = "shipping_profile"
    PREFIX = "sp"

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "shipping-profile.created"
        name: str
        type: str
        metadata: JsonObject | None

        def change(self, aggregate: Any) -> None:
            aggregate.name = self.name
            aggregate.type = self.type
            aggregate.metadata = self.metadata

    @classmethod
    def create(cls, *, name: str, profile_type: str, actor: str) -> ShippingProfile:
        return cls._create(
            cls.Created, id=cls.new_id(), name=name, type=profile_type,
            metadata=None, actor=actor,
        )  # fmt: skip
