"""The store's defaults: which sales channel and shipping profiles products get."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.catalog.base import CatalogAggregate

# One store per event store: a fixed id makes its creation idempotent (a second
# creation conflicts and the loser reads the winner's).
STORE_ID = "store_default"


class Store(CatalogAggregate):
    KIND = "store"
    PREFIX = "store"
    if TYPE_CHECKING:  # set by the events' apply; annotations here would make
        # eventsourcing generate an __init__ from them
        default_sales_channel_id: str
        default_profile_id: str
        gift_card_profile_id: str

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "store.created"
        default_sales_channel_id: str
        default_profile_id: str
        gift_card_profile_id: str

        def change(self, aggregate: Any) -> None:
            aggregate.default_sales_channel_id = self.default_sales_channel_id
            aggregate.default_profile_id = self.default_profile_id
            aggregate.gift_card_profile_id = self.gift_card_profile_id

    @classmethod
    def create(
        cls, *, sales_channel_id: str, profile_id: str, gift_card_profile_id: str,
        actor: str,
    ) -> Store:  # fmt: skip
        return cls._create(
            cls.Created, id=STORE_ID, default_sales_channel_id=sales_channel_id,
            default_profile_id=profile_id, gift_card_profile_id=gift_card_profile_id,
            actor=actor,
        )  # fmt: skip
